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
 * The sessions that must be alive: every dedicated one, the first `min` autonomous slots (more,
 * up to `max`, while queued work wants them: `wanted`), and any other autonomous slot that
 * already exists (it is pool property; it is kept until it is let go).
 */
export function requiredPoolSpecs(config: Config, existing: ReadonlySet<string>, wanted = 0): PoolSessionSpec[] {
  const auto = config.pool.autonomous;
  const count = Math.min(auto.max, Math.max(auto.min, wanted));
  return allPoolSpecs(config).filter((spec, i) => spec.kind === 'dedicated' || i < count || existing.has(spec.name));
}
