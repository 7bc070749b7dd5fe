/**
 * Normalises a MAC address to lower-case colon form (`aa:bb:cc:dd:ee:ff`) from colon, dash,
 * Cisco dotted or bare hex notation; `null` when it is not a 48-bit MAC.
 */
export function normalizeMac(input: string): string | null {
  if (input.length > 17) return null;
  const hex = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$/.test(input)
    ? input.replace(/[:-]/g, '')
    : /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(input)
      ? input.replace(/\./g, '')
      : null;
  return hex === null ? null : hex.toLowerCase().replace(/(..)(?!$)/g, '$1:');
}
