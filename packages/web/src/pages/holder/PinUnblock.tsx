/**
 * Asking for a PIN unblock of one's token: the holder pastes (or picks the file of) the token's
 * request from `hpki token unblock-request`; an officer decides it in the queue; the answer is
 * downloaded here and applied with `hpki token unblock-apply`.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, saveBlob } from '../../api/client.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextAreaField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';

interface MyUnblock {
  id: string;
  tokenId: string;
  state: 'pending' | 'answered' | 'rejected';
  requestedAt: string;
  decidedAt: string | null;
  response: unknown;
}

/** The PIN-unblock card of the holder page. */
export function PinUnblockPanel() {
  const { t, i18n } = useTranslation();
  const [text, setText] = useState('');
  const [rows, setRows] = useState<MyUnblock[]>([]);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);

  const load = useCallback(() => {
    api<{ unblocks: MyUnblock[] }>('GET', '/api/v1/me/unblocks')
      .then((r) => setRows(r.unblocks))
      .catch((e) => setFailure(errorText(t, e)));
  }, [t]);
  useEffect(load, [load]);

  const submit = async () => {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      setInvalid(t('unblockMe.badJson'));
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      setInvalid(t('unblockMe.badJson'));
      return;
    }
    setInvalid(undefined);
    setBusy(true);
    setFailure(null);
    setOk(null);
    try {
      await api('POST', '/api/v1/me/unblocks', { request });
      setOk(t('unblockMe.submitted'));
      setText('');
      load();
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const columns: Column<MyUnblock>[] = [
    { key: 'tokenId', header: t('unblockMe.tokenId'), render: (u) => <code>{u.tokenId}</code> },
    { key: 'state', header: t('fields.state'), render: (u) => t(`unblockMe.state.${u.state}`) },
    { key: 'requestedAt', header: t('fields.requestedAt'), render: (u) => formatDate(u.requestedAt, i18n.language) },
    { key: 'decidedAt', header: t('fields.decidedAt'), render: (u) => formatDate(u.decidedAt, i18n.language) },
    {
      key: 'response',
      header: t('common.download'),
      render: (u) =>
        u.response ? (
          <button type="button" onClick={() => saveBlob(new Blob([JSON.stringify(u.response, null, 2)], { type: 'application/json' }), `unblock-response-${u.tokenId}.json`)}>
            {t('unblockMe.saveResponse')}
          </button>
        ) : null,
    },
  ];
  return (
    <section className="card" aria-labelledby="unblock-title">
      <h2 id="unblock-title">{t('unblockMe.title')}</h2>
      <p>{t('unblockMe.intro')}</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <TextAreaField label={t('unblockMe.request')} name="unblockRequest" value={text} onChange={setText} rows={5} required error={invalid} hint={t('unblockMe.hint')} />
        <label className="field">
          {t('unblockMe.file')}
          <input type="file" accept=".json,application/json" onChange={(e) => void e.target.files?.[0]?.text().then(setText)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy || text.trim() === ''}>{t('unblockMe.submit')}</button>
        </div>
      </form>
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      <DataTable caption={t('unblockMe.mine')} columns={columns} rows={rows} rowKey={(u) => u.id} />
      {rows.some((u) => u.response) ? <p className="muted">{t('unblockMe.applyHint')}</p> : null}
    </section>
  );
}
