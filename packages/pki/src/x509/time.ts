import { Time } from '@peculiar/asn1-x509';

/** Truncates a date to whole seconds, as DER times carry no fraction here. */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** An X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function toAsnTime(d: Date): Time {
  const t = wholeSeconds(d);
  return t.getUTCFullYear() < 2050 ? new Time({ utcTime: t }) : new Time({ generalTime: t });
}

/** Adds whole days to a date. */
export function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * 86_400_000);
}
