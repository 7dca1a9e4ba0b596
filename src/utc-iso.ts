// An instant as Date#toISOString writes it (2026-12-06T21:45:33.120Z), computed without a
// Date. V8's Date methods, toISOString included, set up its time zone cache from ICU on
// first use, and that reads ~640 KB of the node binary's ICU data into the process
// (measured: 460 -> 1 100 KB of ICU pages resident). The supervisor writes a time on every
// log line; those pages are its own, not shared, when no other process of the machine has
// touched them, and they count in every supervisor's PSS.

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Date's range that toISOString writes with a four-digit year (years 0 to 9999). */
const LAST_FOUR_DIGIT_MS = 253_402_300_799_999;

/**
 * `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, as Date#toISOString writes it (a
 * fraction of a millisecond dropped as Date drops it). Outside years 0 to 9999 (never an
 * instant of ours) Date writes it. The CLI's `list` gave 2-3 ms of its start to the time
 * zone set-up (reading /etc/localtime, ICU's data) for its few times too.
 */
export function utcIso(time: number): string {
  const ms = Math.trunc(time);
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_MS)) return new Date(time).toISOString();
  const days = Math.floor(ms / 86_400_000);
  const inDay = ms - days * 86_400_000;
  // Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day number.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor((inDay % 3_600_000) / 60_000);
  const s = Math.floor((inDay % 60_000) / 1000);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(inDay % 1000, 3)}Z`;
}
