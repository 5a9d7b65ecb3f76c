import { type RunningPrometheus, stopPrometheus } from './prometheus';

export default async function globalTeardown(): Promise<void> {
  const prometheus = (globalThis as { __prometheus?: RunningPrometheus }).__prometheus;
  if (prometheus) stopPrometheus(prometheus);
}
