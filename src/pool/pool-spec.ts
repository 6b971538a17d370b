import type { Config } from '../config/types.js';

export interface PoolSessionSpec {
  readonly name: string;
  readonly project: string;
  readonly kind: 'autonomous' | 'dedicated';
}

/** Every session name the pool may own: all autonomous slots and every dedicated session. */
export function allPoolSpecs(config: Config): PoolSessionSpec[] {
  const auto = config.pool.autonomous;
  const specs: PoolSessionSpec[] = [];
  for (let i = 0; i < auto.max; i++) {
    specs.push({ name: `${auto.prefix}${auto.startIndex + i}`, project: auto.project, kind: 'autonomous' });
  }
  for (const d of config.pool.dedicated) specs.push({ name: d.name, project: d.project, kind: 'dedicated' });
  return specs;
}

/**
 * The sessions that must be alive: every dedicated one, the first `min` autonomous slots,
 * and any other autonomous slot that already exists (it is pool property; it is kept).
 */
export function requiredPoolSpecs(config: Config, existing: ReadonlySet<string>): PoolSessionSpec[] {
  const auto = config.pool.autonomous;
  return allPoolSpecs(config).filter((spec, i) => spec.kind === 'dedicated' || i < auto.min || existing.has(spec.name));
}

export function isPoolSession(config: Config, name: string): boolean {
  return allPoolSpecs(config).some((s) => s.name === name);
}
