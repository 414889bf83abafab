/**
 * A queue of requests a second officer decides (PIN unblocks, key recoveries): the API lists the
 * pending ones of a CA; each can be approved, or rejected with a reason given next to the button.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText } from '../../format.js';
import { useSession } from '../../session.js';
import { useDefaultCa } from './use-ca.js';

/** What a queue page configures. */
export interface QueueSpec<T extends { id: string }> {
  title: string;
  intro: string;
  /** The collection under /api/v1/cas/:ca/, e.g. "unblocks", and the list's property in the answer. */
  collection: string;
  columns: Column<T>[];
  approveLabel: string;
  approvePath: string;
  rejectLabel: string;
  doneApproved: string;
  doneRejected: string;
  extra?: ReactNode;
}

/** The queue page. */
export function DecisionQueue<T extends { id: string }>({ spec }: { spec: QueueSpec<T> }) {
  const { t } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('ra.read'));
  const [rows, setRows] = useState<T[]>([]);
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const base = `/api/v1/cas/${encodeURIComponent(ca)}/${spec.collection}`;

  const load = useCallback(() => {
    if (!ca) return;
    api<Record<string, T[]>>('GET', base)
      .then((r) => setRows(r[spec.collection] ?? []))
      .catch((e) => setFailure(errorText(t, e)));
  }, [base, ca, spec.collection, t]);
  useEffect(load, [load]);

  const act = async (path: string, body: unknown, done: string) => {
    setBusy(true);
    setFailure(null);
    setOk(null);
    try {
      await api('POST', path, body);
      setOk(done);
      setRejecting(null);
      setReason('');
      load();
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const canDecide = session.can('ra.approve', ca);
  const columns: Column<T>[] = [
    ...spec.columns,
    ...(canDecide
      ? [
          {
            key: 'actions',
            header: t('common.actions'),
            render: (r: T) => (
              <span className="links">
                <button type="button" disabled={busy} onClick={() => void act(`${base}/${encodeURIComponent(r.id)}/${spec.approvePath}`, {}, spec.doneApproved)}>
                  {spec.approveLabel}
                </button>
                <button type="button" className="danger" disabled={busy} onClick={() => { setRejecting(r.id); setReasonError(undefined); }}>
                  {spec.rejectLabel}
                </button>
              </span>
            ),
          },
        ]
      : []),
  ];
  return (
    <section>
      <h1>{spec.title}</h1>
      <p>{spec.intro}</p>
      <div className="filters">
        <CaSelect cas={cas} value={ca} onChange={setCa} only={session.casWith('ra.read')} />
      </div>
      <DataTable caption={spec.title} columns={columns} rows={rows} rowKey={(r) => r.id} />
      {rejecting ? (
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!reason.trim()) return setReasonError(t('validation.required', { field: t('fields.reason') }));
            void act(`${base}/${encodeURIComponent(rejecting)}/reject`, { reason: reason.trim() }, spec.doneRejected);
          }}
        >
          <TextField label={`${t('fields.reason')} (${rejecting})`} name="reason" value={reason} onChange={setReason} error={reasonError} required />
          <button type="submit" className="danger" disabled={busy}>
            {spec.rejectLabel}
          </button>
          <button type="button" onClick={() => setRejecting(null)}>
            {t('common.cancel')}
          </button>
        </form>
      ) : null}
      {busy ? <Progress /> : null}
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
    </section>
  );
}
