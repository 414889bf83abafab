/** A labelled form field with its error message next to it, tied together for screen readers. */
import { useId, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** What the control inside a Field must carry. */
export interface ControlProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
  'aria-required': boolean | undefined;
}

/** A label, the control (rendered by `children` with the props it needs), a hint and the error. */
export function Field(props: { label: string; error?: string; hint?: string; required?: boolean; children: (p: ControlProps) => ReactNode }) {
  const { t } = useTranslation();
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errId = props.error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {props.label}
        {props.required ? <span className="req"> {t('common.required')}</span> : null}
      </label>
      {props.children({ id, 'aria-invalid': Boolean(props.error), 'aria-describedby': describedBy, 'aria-required': props.required || undefined })}
      {props.hint ? (
        <div className="hint" id={hintId}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div className="field-error" id={errId} role="alert">
          {props.error}
        </div>
      ) : null}
    </div>
  );
}

/** A text input in a Field. */
export function TextField(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string; required?: boolean; type?: string; name?: string; autoComplete?: string }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint} required={props.required}>
      {(p) => <input {...p} name={props.name} type={props.type ?? 'text'} value={props.value} autoComplete={props.autoComplete ?? 'off'} onChange={(e) => props.onChange(e.target.value)} />}
    </Field>
  );
}

/** A select in a Field. */
export function SelectField(props: { label: string; value: string; onChange: (v: string) => void; options: Array<{ value: string; label: string }>; error?: string; required?: boolean; name?: string }) {
  return (
    <Field label={props.label} error={props.error} required={props.required}>
      {(p) => (
        <select {...p} name={props.name} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A textarea in a Field. */
export function TextAreaField(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string; required?: boolean; rows?: number; name?: string }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint} required={props.required}>
      {(p) => <textarea {...p} name={props.name} rows={props.rows ?? 4} value={props.value} onChange={(e) => props.onChange(e.target.value)} />}
    </Field>
  );
}
