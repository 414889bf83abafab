/**
 * A chart.js chart as a React component: a canvas announced as an image with its title, and the
 * same numbers as a table (collapsed) for screen readers and for reading exact values.
 */
import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, DoughnutController, ArcElement, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { usePT } from './common.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, DoughnutController, ArcElement, Legend, Tooltip);

/** Colours of the series, in order (distinguishable for common colour-vision deficiencies). */
export const PALETTE = ['#0f4c81', '#e69f00', '#b3261e', '#009e73', '#56b4e9', '#cc79a7', '#5b6470', '#f0e442'];

/** One dataset: a label and a value per category. */
export interface Series {
  label: string;
  values: number[];
  /** Fixed colour (the same measure keeps its colour across charts); default: the palette in order. */
  color?: string;
}

/** A bar, line or doughnut chart of `series` over `labels`. */
export function ChartView(props: { id: string; title: string; type: 'bar' | 'line' | 'doughnut'; labels: string[]; series: Series[]; max?: number }) {
  const { t } = usePT();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const doughnut = props.type === 'doughnut';
    const config: ChartConfiguration = {
      type: props.type,
      data: {
        labels: props.labels,
        datasets: props.series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: doughnut ? props.labels.map((_, k) => PALETTE[k % PALETTE.length]) : (s.color ?? PALETTE[i % PALETTE.length]),
          borderColor: doughnut ? '#fff' : (s.color ?? PALETTE[i % PALETTE.length]),
          tension: 0.2,
        })),
      },
      options: {
        // No animation: the chart is complete as soon as it is drawn (screenshots, and people who prefer less motion).
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: props.series.length > 1 || doughnut } },
        ...(doughnut ? {} : { scales: { y: { beginAtZero: true, ...(props.max !== undefined ? { max: props.max } : {}) } } }),
      },
    };
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [props.type, props.labels, props.series, props.max]);
  return (
    <figure className="pchart" data-testid={`chart-${props.id}`}>
      <figcaption>{props.title}</figcaption>
      <div className="pchart-canvas">
        <canvas ref={canvas} role="img" aria-label={t('dash.chartOf', { title: props.title })} />
      </div>
      <details>
        <summary>{t('dash.tableOf', { title: props.title })}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{props.title}</th>
              {props.series.map((s) => (
                <th key={s.label} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.labels.map((l, k) => (
              <tr key={l}>
                <th scope="row">{l}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.values[k]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
