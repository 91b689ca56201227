/**
 * Each input column's mean and standard deviation (X: n × d, row-major): what the hints about x far
 * from 0 against its spread read (gmoe fit's saturation hint, the standard errors' singularity note).
 * @param ddof 0: the population sd (divide by n); 1: the sample sd (divide by n − 1)
 */
export function columnMeanSd(X: Float64Array, n: number, d: number, ddof: 0 | 1 = 0): { mean: number; sd: number }[] {
  return Array.from({ length: d }, (_, l) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += X[i * d + l]! / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (X[i * d + l]! - mean) ** 2;
    return { mean, sd: Math.sqrt(ss / Math.max(1, n - ddof)) };
  });
}
