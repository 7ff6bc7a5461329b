/** Float targets (51.0, -9867630.0) as the plain decimal a person would write. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toFixed(0);
  // Avoid exponent notation and float noise such as 0.30000000000000004.
  return Number(value.toPrecision(15)).toString();
}
