/**
 * The day's chart as a hand-written SVG: each doctor's queue length over simulated time (a step
 * line per doctor, sampled from the views after every event), slot windows, emergencies, the
 * doctor's delay and the capacity change, with axes and a legend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { clock, type DayMarker, type DayResult, type DoctorKey, type QueueSample } from './simulation';

const COLORS: Record<DoctorKey, string> = { smith: '#2563eb', jones: '#d97706', taylor: '#059669' };
const FALLBACK = ['#7c3aed', '#db2777', '#0891b2'];

const W = 1100;
const H = 760;
const M = { left: 64, right: 250, top: 96, bottom: 58 };
const PW = W - M.left - M.right;
/** Two panels sharing the time axis: the queues (views), then the patients at the desk. */
const GAP = 56;
const PANEL_A = { top: M.top, height: 330 };
const PANEL_B = { top: M.top + 330 + GAP, height: H - M.bottom - (M.top + 330 + GAP) };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number) => (Math.round(n * 10) / 10).toString();

function niceStep(max: number): number {
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (max / step <= 8) return step;
  return Math.ceil(max / 8);
}

/** Points of a step line: the value holds until the next sample. */
function stepPoints(samples: QueueSample[], value: (s: QueueSample) => number, x: (t: number) => number, y: (v: number) => number): string {
  const points: string[] = [];
  samples.forEach((s, i) => {
    if (i > 0) points.push(`${num(x(s.t))},${num(y(value(samples[i - 1])))}`);
    points.push(`${num(x(s.t))},${num(y(value(s)))}`);
  });
  return points.join(' ');
}

function valueAt(samples: QueueSample[], t: number, value: (s: QueueSample) => number): number {
  let v = 0;
  for (const s of samples) {
    if (s.t > t) break;
    v = value(s);
  }
  return v;
}

interface Panel {
  top: number;
  height: number;
  title: string;
  series: 'queue' | 'present';
}

export function renderDayChart(result: DayResult): string {
  const keys = result.doctors.map((d) => d.key);
  const color = (key: DoctorKey) => COLORS[key] ?? FALLBACK[keys.indexOf(key) % FALLBACK.length];
  const nameOf = (key: DoctorKey) => result.doctors.find((d) => d.key === key)?.name ?? key;
  const t0 = result.simStart;
  const t1 = Math.max(t0 + 60, Math.ceil((result.simEnd + 5) / 30) * 30);
  const x = (t: number) => M.left + ((t - t0) / (t1 - t0)) * PW;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / 30) * 30; t <= t1; t += 30) ticks.push(t);
  const { config } = result;
  const slots = result.doctors[0]?.slots ?? [];
  const delays = result.markers.filter((m): m is Extract<DayMarker, { kind: 'delay' }> => m.kind === 'delay');
  const capacity = result.markers.filter((m): m is Extract<DayMarker, { kind: 'capacity' }> => m.kind === 'capacity');

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="30" font-size="18" font-weight="bold" fill="#111827">${esc(`OPD day simulation: each doctor's queue over the day (seed ${config.seed})`)}</text>`);
  out.push(
    `<text x="${M.left}" y="52" fill="#4b5563">${esc(
      `${result.doctors.length} doctors, ${config.slotsPerDoctor} slots of ${config.slotMinutes} min each; read from the system's views after every event (simulated time).`,
    )}</text>`,
  );

  const panels: Panel[] = [
    { ...PANEL_A, title: "Tokens in the doctor's queues (booked + checked in, all the day's slots)", series: 'queue' },
    { ...PANEL_B, title: 'Patients waiting at the desk (checked in, not yet called)', series: 'present' },
  ];
  for (const [p, panel] of panels.entries()) {
    const value = (s: QueueSample) => s[panel.series];
    const maxValue = Math.max(4, ...keys.map((k) => Math.max(...result.series[k].map(value))));
    const yStep = niceStep(maxValue);
    const yMax = Math.ceil((maxValue + 1) / yStep) * yStep;
    const bottom = panel.top + panel.height;
    const y = (v: number) => bottom - (v / yMax) * panel.height;

    out.push(`<g data-panel="${panel.series}">`);
    out.push(`<text x="${M.left}" y="${panel.top - 10}" font-weight="bold" fill="#111827">${esc(panel.title)}</text>`);
    // Slot windows, shaded alternately, labelled in the first panel.
    for (const slot of slots) {
      const xa = x(slot.simStart);
      const xb = x(slot.simEnd);
      if (slot.index % 2 === 0) out.push(`<rect x="${num(xa)}" y="${panel.top}" width="${num(xb - xa)}" height="${panel.height}" fill="#f3f4f6"/>`);
      if (p === 0) out.push(`<text x="${num((xa + xb) / 2)}" y="${panel.top + 15}" text-anchor="middle" fill="#6b7280" font-size="12">slot ${slot.index + 1}</text>`);
    }
    // The doctor away: a band in the doctor's colour.
    for (const m of delays) {
      out.push(`<rect x="${num(x(m.t))}" y="${panel.top}" width="${num(Math.max(2, x(m.resumesAt) - x(m.t)))}" height="${panel.height}" fill="${color(m.doctor)}" fill-opacity="0.12"/>`);
      out.push(`<line x1="${num(x(m.t))}" x2="${num(x(m.t))}" y1="${panel.top}" y2="${bottom}" stroke="${color(m.doctor)}" stroke-dasharray="5 3"/>`);
    }
    // Grid and axes.
    out.push(`<g stroke="#e5e7eb" stroke-width="1">`);
    for (let v = yStep; v <= yMax; v += yStep) out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${num(y(v))}" y2="${num(y(v))}"/>`);
    for (const t of ticks) out.push(`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${panel.top}" y2="${bottom}"${t % 60 === 0 ? '' : ' stroke-dasharray="2 4"'}/>`);
    out.push(`</g>`);
    out.push(`<g fill="#374151" font-size="12">`);
    for (let v = 0; v <= yMax; v += yStep) out.push(`<text x="${M.left - 8}" y="${num(y(v) + 4)}" text-anchor="end">${v}</text>`);
    for (const t of ticks) out.push(`<text x="${num(x(t))}" y="${bottom + 17}" text-anchor="middle">${clock(t)}</text>`);
    out.push(`</g>`);
    out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${bottom}" y2="${bottom}" stroke="#374151"/>`);
    out.push(`<line x1="${M.left}" x2="${M.left}" y1="${panel.top}" y2="${bottom}" stroke="#374151"/>`);
    out.push(`<text transform="translate(20 ${num(panel.top + panel.height / 2)}) rotate(-90)" text-anchor="middle" fill="#111827">${panel.series === 'queue' ? 'tokens' : 'patients'}</text>`);

    // One step line per doctor.
    // Lines on the same value would hide each other: each doctor's is nudged by 2 px.
    keys.forEach((key, i) => {
      const nudge = (i - (keys.length - 1) / 2) * 2;
      out.push(
        `<polyline data-doctor="${key}" data-series="${panel.series}" fill="none" stroke="${color(key)}" stroke-width="2" stroke-linejoin="round" points="${stepPoints(result.series[key], value, x, (v) => y(v) + nudge)}"/>`,
      );
    });
    // Emergencies: a triangle above the doctor's line, filled when accepted over capacity.
    for (const m of result.markers) {
      if (m.kind !== 'emergency') continue;
      const cx = x(m.t);
      const cy = y(valueAt(result.series[m.doctor], m.t, value)) - 9;
      const fill = m.overCapacity ? '#b91c1c' : '#ffffff';
      out.push(
        `<path d="M ${num(cx)} ${num(cy + 6)} L ${num(cx - 6)} ${num(cy - 5)} L ${num(cx + 6)} ${num(cy - 5)} Z" fill="${fill}" stroke="#b91c1c" stroke-width="1.5"><title>${esc(`${m.label} emergency for ${nameOf(m.doctor)} at ${clock(m.t)}${m.overCapacity ? ', over capacity' : ''}`)}</title></path>`,
      );
    }
    // Notes for the delay and the capacity change, in the first panel's top row.
    if (p === 0) {
      const notes = [
        ...delays.map((m) => ({ t: m.t, color: color(m.doctor), text: `${nameOf(m.doctor)} away ${m.minutes} min` })),
        ...capacity.map((m) => {
          const slot = result.doctors.find((d) => d.key === m.doctor)?.slots[m.slotIndex];
          return { t: m.t, color: color(m.doctor), text: `${nameOf(m.doctor)}: ${slot ? clock(slot.simStart) : ''} slot ${m.from} → ${m.to} places` };
        }),
      ].sort((a, b) => a.t - b.t);
      notes.forEach((note, i) => {
        const nx = x(note.t);
        const ny = panel.top + 34 + i * 18;
        const right = nx > M.left + PW * 0.6;
        out.push(`<path d="M ${num(nx)} ${ny - 11} L ${num(nx + 5)} ${ny - 5} L ${num(nx)} ${ny + 1} L ${num(nx - 5)} ${ny - 5} Z" fill="${note.color}"/>`);
        out.push(
          `<text x="${num(right ? nx - 9 : nx + 9)}" y="${ny}" text-anchor="${right ? 'end' : 'start'}" fill="${note.color}" font-size="12" font-weight="bold" paint-order="stroke" stroke="#ffffff" stroke-width="3">${esc(note.text)}</text>`,
        );
      });
    }
    out.push(`</g>`);
  }
  out.push(`<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle" fill="#111827">simulated time of day</text>`);

  // Legend.
  const lx = M.left + PW + 24;
  let ly = M.top + 8;
  out.push(`<g font-size="13" fill="#111827">`);
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">Doctors</text>`);
  ly += 22;
  for (const doctor of result.doctors) {
    const stats = result.stats.byDoctor[doctor.key];
    out.push(`<line x1="${lx}" x2="${lx + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color(doctor.key)}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 36}" y="${ly}">${esc(`${doctor.name} (${doctor.capacity}/slot)`)}</text>`);
    ly += 17;
    const wait = stats.meanWait === null ? '-' : `${Math.round(stats.meanWait)} min`;
    out.push(`<text x="${lx + 36}" y="${ly}" fill="#4b5563" font-size="12">${esc(`served ${stats.served}, mean wait ${wait}`)}</text>`);
    ly += 24;
  }
  ly += 4;
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">Marks</text>`);
  ly += 22;
  out.push(`<path d="M ${lx + 14} ${ly + 2} L ${lx + 8} ${ly - 9} L ${lx + 20} ${ly - 9} Z" fill="#b91c1c" stroke="#b91c1c" stroke-width="1.5"/>`);
  out.push(`<text x="${lx + 36}" y="${ly}">emergency, over capacity</text>`);
  ly += 22;
  out.push(`<path d="M ${lx + 14} ${ly + 2} L ${lx + 8} ${ly - 9} L ${lx + 20} ${ly - 9} Z" fill="#ffffff" stroke="#b91c1c" stroke-width="1.5"/>`);
  out.push(`<text x="${lx + 36}" y="${ly}">emergency, within capacity</text>`);
  ly += 22;
  out.push(`<rect x="${lx}" y="${ly - 12}" width="28" height="14" fill="#6b7280" fill-opacity="0.18"/>`);
  out.push(`<text x="${lx + 36}" y="${ly}">doctor away (delay)</text>`);
  ly += 22;
  out.push(`<path d="M ${lx + 14} ${ly - 12} L ${lx + 20} ${ly - 6} L ${lx + 14} ${ly} L ${lx + 8} ${ly - 6} Z" fill="#6b7280"/>`);
  out.push(`<text x="${lx + 36}" y="${ly}">delay / capacity change</text>`);
  ly += 22;
  out.push(`<rect x="${lx}" y="${ly - 12}" width="28" height="14" fill="#f3f4f6" stroke="#e5e7eb"/>`);
  out.push(`<text x="${lx + 36}" y="${ly}">slot window (${config.slotMinutes} min)</text>`);
  ly += 30;
  const total = result.stats.total;
  const facts = [
    `${total.booked} tokens, ${total.served} served`,
    `${total.noShows} no-shows, ${total.cancelled} cancelled`,
    `${total.refused} refused (slots full)`,
    `${total.overflowEmergencies} overflow emergencies`,
  ];
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">The day</text>`);
  for (const fact of facts) {
    ly += 18;
    out.push(`<text x="${lx}" y="${ly}" fill="#374151" font-size="12">${esc(fact)}</text>`);
  }
  out.push(`</g>`);

  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

export function writeDayChart(path: string, result: DayResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderDayChart(result));
}
