/** The CAs of the deployment, loaded once per page; `only` narrows them to the CAs a permission covers. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.js';
import type { Ca } from '../api/types.js';
import { SelectField } from './Field.js';

/** Loads the CAs (public). */
export function useCas(): Ca[] {
  const [cas, setCas] = useState<Ca[]>([]);
  useEffect(() => {
    api<{ cas: Ca[] }>('GET', '/api/v1/cas')
      .then((r) => setCas(r.cas))
      .catch(() => setCas([]));
  }, []);
  return cas;
}

/** The CA's display name in `language` (as profiles' names are chosen), else its one display name. */
export function caDisplayName(ca: Ca, language: string): string {
  return ca.displayNames?.[language] ?? ca.displayNames?.['zh-CN'] ?? ca.displayName;
}

/** A CA select; `allowAll` adds an "all" choice with the value ''. */
export function CaSelect(props: { cas: Ca[]; value: string; onChange: (v: string) => void; only?: string[]; allowAll?: boolean }) {
  const { t, i18n } = useTranslation();
  const list = props.only && !props.only.includes('*') ? props.cas.filter((c) => props.only!.includes(c.name)) : props.cas;
  const options = [...(props.allowAll ? [{ value: '', label: t('common.all') }] : []), ...list.map((c) => ({ value: c.name, label: `${caDisplayName(c, i18n.language)} (${c.name})` }))];
  return <SelectField label={t('common.ca')} value={props.value} onChange={props.onChange} options={options} name="ca" />;
}
