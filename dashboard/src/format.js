// Number formatting for people: presentation only (no figure is computed here).

const nf = new Intl.NumberFormat('en-US');

export function count(n) {
  return n === null || n === undefined ? '–' : nf.format(Math.round(n));
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const text = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  return `${n < 0 ? '-' : ''}${text} ${units[i]}`;
}

export function ms(n) {
  if (n === null || n === undefined) return '–';
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
}

export function pct(n, digits = 1) {
  return n === null || n === undefined ? '–' : `${n.toFixed(digits)}%`;
}

/** A micro-dollar integer as dollars with cents (display only; the API's *_usd strings win). */
export function usdFromMicro(micro) {
  if (micro === null || micro === undefined) return '–';
  return `$${(micro / 1e6).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function usd(text) {
  return text === null || text === undefined ? '–' : `$${text}`;
}

export function time(ms) {
  if (!ms) return '–';
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString('en-GB');
}

/** "▲ 12.0% vs previous 24h", or a note that there is nothing to compare with. */
export function change(changePct, rangeLabel) {
  if (changePct === null || changePct === undefined) return `no previous ${rangeLabel} to compare`;
  const arrow = changePct > 0 ? '▲' : changePct < 0 ? '▼' : '■';
  return `${arrow} ${Math.abs(changePct).toFixed(1)}% vs previous ${rangeLabel}`;
}
