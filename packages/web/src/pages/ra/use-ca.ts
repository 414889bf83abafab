/** The CA an RA page works on: the first the officer may use, until they pick another. */
import { useEffect, useState } from 'react';
import type { Ca } from '../../api/types.js';

/** [ca, setCa]: defaults to the first CA in `allowed` ('*' allows all) once the CAs are loaded. */
export function useDefaultCa(cas: Ca[], allowed: string[]): [string, (v: string) => void] {
  const [ca, setCa] = useState('');
  const first = cas.find((c) => allowed.includes('*') || allowed.includes(c.name))?.name ?? '';
  useEffect(() => {
    if (!ca && first) setCa(first);
  }, [ca, first]);
  return [ca, setCa];
}
