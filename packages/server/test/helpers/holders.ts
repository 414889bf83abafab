/** Test identities with valid check characters: resident ID numbers (GB 11643), organisation codes (GB 11714), unified social credit codes (GB 32100). */

/** A resident ID for a birth date and sequence (the check character computed). */
export function residentId(birth = '19800101', seq = 1, region = '440106'): string {
  const body = `${region}${birth}${String(seq).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((a, w, i) => a + w * Number(body[i]), 0);
  return body + '10X98765432'[sum % 11];
}

/** A 9-character organisation code from 8 digits or capitals. */
export function organisationCode(body8: string): string {
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  const val = (ch: string) => (/\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55);
  const sum = weights.reduce((a, w, i) => a + w * val(body8[i]!), 0);
  const check = 11 - (sum % 11);
  return body8 + (check === 10 ? 'X' : check === 11 ? '0' : String(check));
}

/** A unified social credit code embedding the organisation code of `body8`. */
export function socialCreditCode(body8: string, prefix = '91440300'): string {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const body = prefix + organisationCode(body8);
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = weights.reduce((a, w, i) => a + w * chars.indexOf(body[i]!), 0);
  return body + chars[(31 - (sum % 31)) % 31];
}
