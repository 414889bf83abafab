/**
 * The signed-in session: the bearer token and what the API says about it (who am I). Controls are
 * shown by asking `can` — a mirror of the server's role → permission table
 * (packages/server/src/auth/permissions.ts); the API still decides every call.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, storedPlatformToken, storePlatformToken, storedToken, storeToken } from './api/client.js';
import type { PlatformMe, Whoami } from './api/types.js';

/** The permissions the interface asks about (the server's names). */
export type Permission = 'ca.admin' | 'ra.read' | 'ra.enter' | 'ra.approve' | 'cert.status' | 'audit.read' | 'holder.self';

// Mirrors ROLE_PERMISSIONS of auth/permissions.ts: administrators hold everything.
const ROLE_PERMISSIONS: Record<'admin' | 'officer' | 'auditor', readonly Permission[] | 'all'> = {
  admin: 'all',
  officer: ['ra.read', 'ra.enter', 'ra.approve', 'cert.status', 'holder.self'],
  auditor: ['audit.read'],
};

/** What pages and controls read about the session. */
export interface Session {
  /** undefined while asking the API, null when signed out. */
  me: Whoami | null | undefined;
  /** Whether the principal holds `permission` (on `ca`, or on some CA when absent). */
  can(permission: Permission, ca?: string): boolean;
  /** The CAs on which the principal holds `permission` ('*' stands for all). */
  casWith(permission: Permission): string[];
  signIn(token: string, me?: Whoami): Promise<Whoami>;
  signOut(): Promise<void>;
  /** The national platform's caller (its own bearer token): undefined while asking, null when not signed in there. */
  platform: PlatformMe | null | undefined;
  /** Checks a platform token (GET /platform/whoami) and keeps it for this tab. */
  platformSignIn(token: string): Promise<PlatformMe>;
  platformSignOut(): void;
}

const SessionContext = createContext<Session | null>(null);

/** Whether grants give `permission` on `ca` (any CA when undefined). */
export function allows(me: Whoami | null | undefined, permission: Permission, ca?: string): boolean {
  if (!me) return false;
  if (permission === 'holder.self' && me.holder) return ca === undefined || me.holder.ca === ca;
  return me.grants.some((g) => {
    const perms = ROLE_PERMISSIONS[g.role];
    const has = perms === 'all' || perms.includes(permission);
    return has && (ca === undefined || g.ca === '*' || g.ca === ca);
  });
}

/** Provides the session to the app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Whoami | null | undefined>(storedToken() ? undefined : null);
  const [platform, setPlatform] = useState<PlatformMe | null | undefined>(storedPlatformToken() ? undefined : null);

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    api<Whoami>('GET', '/api/v1/auth/whoami')
      .then(setMe)
      .catch(() => {
        // An expired or revoked token: signed out, the login page explains nothing is lost.
        storeToken(null);
        setMe(null);
      });
  }, []);

  useEffect(() => {
    const token = storedPlatformToken();
    if (!token) return;
    api<PlatformMe>('GET', '/platform/whoami', undefined, token)
      .then(setPlatform)
      .catch(() => {
        storePlatformToken(null);
        setPlatform(null);
      });
  }, []);

  const platformSignIn = useCallback(async (token: string) => {
    const who = await api<PlatformMe>('GET', '/platform/whoami', undefined, token);
    storePlatformToken(token);
    setPlatform(who);
    return who;
  }, []);

  const platformSignOut = useCallback(() => {
    storePlatformToken(null);
    setPlatform(null);
  }, []);

  const signIn = useCallback(async (token: string, known?: Whoami) => {
    const who = known ?? (await api<Whoami>('GET', '/api/v1/auth/whoami', undefined, token));
    storeToken(token);
    setMe(who);
    return who;
  }, []);

  const signOut = useCallback(async () => {
    // Only a login session can end itself; an API token simply stops being used by this tab.
    if (me?.via === 'session') await api('POST', '/api/v1/auth/logout', {}).catch(() => undefined);
    storeToken(null);
    setMe(null);
  }, [me]);

  const value = useMemo<Session>(
    () => ({
      me,
      can: (p, ca) => allows(me, p, ca),
      casWith: (p) => (me ? [...new Set(me.grants.filter((g) => allows({ ...me, grants: [g], holder: null }, p)).map((g) => g.ca))] : []),
      signIn,
      signOut,
      platform,
      platformSignIn,
      platformSignOut,
    }),
    [me, signIn, signOut, platform, platformSignIn, platformSignOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session (inside SessionProvider). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
