// The few parts of autocannon's API the benchmarks use.
declare module "autocannon" {
  interface Histogram { average: number; total: number; p50: number; p99: number }
  interface Result { requests: Histogram; latency: Histogram; non2xx: number; errors: number; timeouts: number }
  interface Request { body?: string; [key: string]: unknown }
  interface Options {
    url: string;
    method?: string;
    connections?: number;
    duration?: number;
    amount?: number;
    headers?: Record<string, string>;
    body?: string;
    requests?: { setupRequest?: (req: Request) => Request }[];
  }
  export default function autocannon(options: Options): Promise<Result>;
}
