/** The PIN-unblock and key-recovery queues (second-officer decisions). */
import { useTranslation } from 'react-i18next';
import { formatDate } from '../../format.js';
import { DecisionQueue } from './DecisionQueue.js';

interface Unblock {
  id: string;
  tokenId: string;
  holder: string;
  state: string;
  requestedBy: string;
  requestedAt: string;
}

interface Recovery {
  id: string;
  encSerial: string;
  recipient: string;
  reason: string;
  state: string;
  requiredApprovals: number;
  approvals: Array<{ officer: string }>;
  requestedBy: string;
  requestedAt: string;
}

/** PIN unblock requests. */
export function UnblocksPage() {
  const { t, i18n } = useTranslation();
  return (
    <DecisionQueue<Unblock>
      spec={{
        title: t('unblocks.title'),
        intro: t('unblocks.intro'),
        collection: 'unblocks',
        columns: [
          { key: 'id', header: t('fields.id'), render: (u) => <code>{u.id}</code> },
          { key: 'holder', header: t('fields.holder'), render: (u) => u.holder },
          { key: 'token', header: 'Token', render: (u) => <code>{u.tokenId}</code> },
          { key: 'state', header: t('fields.state'), render: (u) => t(`status.${u.state}`, { defaultValue: u.state }) },
          { key: 'requestedBy', header: t('fields.requestedBy'), render: (u) => u.requestedBy },
          { key: 'requestedAt', header: t('fields.requestedAt'), render: (u) => formatDate(u.requestedAt, i18n.language) },
        ],
        approveLabel: t('unblocks.authorise'),
        approvePath: 'authorise',
        rejectLabel: t('unblocks.reject'),
        doneApproved: t('unblocks.authorised'),
        doneRejected: t('unblocks.rejectedDone'),
      }}
    />
  );
}

/** Key recovery requests. */
export function RecoveriesPage() {
  const { t, i18n } = useTranslation();
  return (
    <DecisionQueue<Recovery>
      spec={{
        title: t('recoveries.title'),
        intro: t('recoveries.intro'),
        collection: 'recoveries',
        columns: [
          { key: 'id', header: t('fields.id'), render: (r) => <code>{r.id}</code> },
          { key: 'serial', header: t('fields.serial'), render: (r) => <code>{r.encSerial}</code> },
          { key: 'reason', header: t('fields.reason'), render: (r) => r.reason },
          { key: 'approvals', header: t('fields.state'), render: (r) => t('recoveries.approvals', { n: r.approvals.length, m: r.requiredApprovals }) },
          { key: 'requestedBy', header: t('fields.requestedBy'), render: (r) => r.requestedBy },
          { key: 'requestedAt', header: t('fields.requestedAt'), render: (r) => formatDate(r.requestedAt, i18n.language) },
        ],
        approveLabel: t('recoveries.approve'),
        approvePath: 'approve',
        rejectLabel: t('recoveries.reject'),
        doneApproved: t('recoveries.approved'),
        doneRejected: t('recoveries.rejectedDone'),
      }}
    />
  );
}
