/** A button that starts a download (a CSV export): disabled and marked busy, with a progress line, until the file is saved or the export failed. */
import { useState } from 'react';
import { Progress } from './Notice.js';

/** The export button; `onError` receives the failure (the page words it). */
export function ExportButton(props: { label: string; busyLabel?: string; run: () => Promise<void>; onError: (e: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <span className="export">
      <button
        type="button"
        disabled={busy}
        aria-busy={busy || undefined}
        onClick={() => {
          setBusy(true);
          props
            .run()
            .catch(props.onError)
            .finally(() => setBusy(false));
        }}
      >
        {props.label}
      </button>
      {busy ? <Progress label={props.busyLabel} /> : null}
    </span>
  );
}
