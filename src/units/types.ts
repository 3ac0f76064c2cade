/**
 * A loaded, validated unit set: what the loader produces and the engine, the D-Bus service and
 * crtosctl consume. Specs are the zod outputs of the kind schemas (defaults filled in, durations in
 * ms, sizes and addresses as bigint, CPU lists as numbers).
 */
import type { z } from 'zod';
import type { commonFields, KindName } from '../kinds/spec-common.js';
import type { DriverSpec } from '../kinds/driver/spec.js';
import type { HypervisorSpec } from '../kinds/hypervisor/spec.js';
import type { ImageSpec } from '../kinds/image/spec.js';
import type { CellSpec } from '../kinds/cell/spec.js';
import type { NetworkSpec } from '../kinds/network/spec.js';
import type { LoaderSpec } from '../kinds/loader/spec.js';
import type { LinkSpec } from '../kinds/link/spec.js';

/** The built-in kinds' specs, for the casts inside each kind's folder (`unit as UnitOf<'Cell'>`). */
export interface SpecByKind {
  Driver: DriverSpec;
  Hypervisor: HypervisorSpec;
  Image: ImageSpec;
  Cell: CellSpec;
  Network: NetworkSpec;
  Loader: LoaderSpec;
  Link: LinkSpec;
}

/** What every unit's spec has, whatever its kind: the common fields. */
export type CommonSpec = z.output<z.ZodObject<typeof commonFields>> & { kind: string };

export interface UnitSource {
  /** The unit's file, as found in its directory (absolute, or as given with --units). */
  file: string;
  /** 1-based position of the unit's document in that file. */
  line: number;
  column: number;
  /** Drop-in files merged over it, in the order applied. */
  dropIns: string[];
}

/**
 * A unit of any kind. Code outside a kind's folder sees its common fields only; the folder casts
 * to its own spec (UnitOf) after checking the kind.
 */
export interface Unit<Spec extends CommonSpec = CommonSpec> {
  /** `nuttx.cell` */
  id: string;
  kind: KindName;
  name: string;
  spec: Spec;
  source: UnitSource;
}

export type UnitOf<K extends keyof SpecByKind> = Unit<SpecByKind[K] & CommonSpec> & { kind: K };

/** Dependencies after implicit edges (references imply requires + after) are added. */
export interface UnitDependencies {
  requires: string[];
  wants: string[];
  /** Units this one is ordered after (starts after, stops before). */
  after: string[];
  /** Units this one is ordered before. */
  before: string[];
  /** Inverse edges, for stopping and failure propagation. */
  requiredBy: string[];
  wantedBy: string[];
}

export interface UnitSet {
  /** By id, in a deterministic order (file order within directories). */
  units: ReadonlyMap<string, Unit>;
  deps: ReadonlyMap<string, UnitDependencies>;
  /**
   * Start order in layers: every unit's `after` predecessors are in earlier layers, so the units of
   * one layer can start together. Stop order is the reverse.
   */
  layers: string[][];
  /** Directories the set was loaded from, highest precedence first. */
  directories: string[];
}
