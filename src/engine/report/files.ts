/** The files `tracelift report` writes, relative to its output directory. */
export const REPORT_FILES = {
  markdown: 'report.md',
  json: 'report.json',
  kStabilityCsv: 'k_stability.csv',
  kStabilitySvg: 'k_stability.svg',
  kSignSvg: 'k_sign_agreement.svg',
  lengthCsv: 'trace_length.csv',
  lengthSvg: 'trace_length.svg',
  trainingCsv: 'training_dynamics.csv',
  trainingSvg: 'training_uplift.svg',
  trainingSharesSvg: 'training_shares.svg',
  saturationCsv: 'judge_saturation.csv',
  saturationSvg: 'judge_saturation.svg',
} as const;
