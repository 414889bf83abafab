/**
 * "Rebuild the CRL now" for one CA of an authority (POST /api/v1/cas/:ca/crls/:label/rebuild,
 * administrators): one request that answers when every partition's new complete CRL is published,
 * so the state shown is running (with the elapsed time), done (CRL numbers, entries) or failed.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import { addTexts } from '../../i18n/index.js';

const zh = {
  rebuild: '立即重建 CRL', running: '正在生成并发布 {{label}} 的完整 CRL……已用 {{s}} 秒', done: '已发布 CRL 第 {{number}} 号（{{entries}} 条吊销记录，分区 {{partition}}），生效时间 {{at}}',
  label: '重建 {{ca}}/{{label}} 的 CRL',
};
const en: typeof zh = {
  rebuild: 'Rebuild CRL now', running: 'Building and publishing the complete CRL of {{label}}… {{s}} s so far', done: 'CRL number {{number}} published ({{entries}} revoked, partition {{partition}}), this update {{at}}',
  label: 'Rebuild the CRL of {{ca}}/{{label}}',
};
addTexts('crlRebuild', { 'zh-CN': zh, en });

type Answer = { crls: Array<{ partition: number; number: string; thisUpdate: string; entries: number }> };

/** The rebuild button of one CA certificate, with its state. */
export function CrlRebuild(props: { ca: string; label: string; onDone?: () => void }) {
  const { t, i18n } = useTranslation('crlRebuild');
  const { t: ts } = useTranslation();
  const [state, setState] = useState<{ kind: 'idle' } | { kind: 'running'; since: number } | { kind: 'done'; answer: Answer } | { kind: 'failed'; message: string }>({ kind: 'idle' });
  const [, tick] = useState(0);
  // Re-render every second while running so that the elapsed time moves.
  useEffect(() => {
    if (state.kind !== 'running') return;
    const id = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(id);
  }, [state.kind]);

  const run = () => {
    setState({ kind: 'running', since: Date.now() });
    api<Answer>('POST', `/api/v1/cas/${encodeURIComponent(props.ca)}/crls/${encodeURIComponent(props.label)}/rebuild`)
      .then((answer) => {
        setState({ kind: 'done', answer });
        props.onDone?.();
      })
      .catch((e) => setState({ kind: 'failed', message: errorText(ts, e) }));
  };

  return (
    <div className="crl-rebuild">
      <button type="button" onClick={run} disabled={state.kind === 'running'} aria-label={t('label', { ca: props.ca, label: props.label })}>
        {t('rebuild')}
      </button>
      {state.kind === 'running' ? <Progress label={t('running', { label: props.label, s: Math.floor((Date.now() - state.since) / 1000) })} /> : null}
      {state.kind === 'done'
        ? state.answer.crls.map((c) => <Notice key={c.partition} kind="ok" text={t('done', { number: c.number, entries: c.entries, partition: c.partition, at: formatDate(c.thisUpdate, i18n.language) })} />)
        : null}
      {state.kind === 'failed' ? <Notice kind="error" text={state.message} /> : null}
    </div>
  );
}
