/** Messages: success (a polite status), errors (an alert), and progress of long operations. */
import { useTranslation } from 'react-i18next';

/** A success or error line; nothing when empty. */
export function Notice(props: { kind: 'ok' | 'error'; text: string | null | undefined }) {
  if (!props.text) return null;
  return (
    <div className={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.text}
    </div>
  );
}

/** A progress bar (indeterminate without `value`) with its label, announced politely. */
export function Progress(props: { label?: string; value?: number; max?: number }) {
  const { t } = useTranslation();
  const label = props.label ?? t('common.working');
  return (
    <div className="progress" role="status" aria-live="polite">
      <progress aria-label={label} value={props.value} max={props.max} />
      <span>{label}</span>
    </div>
  );
}
