/**
 * How a kind shows itself to observers: its D-Bus interface (properties declared once, read by the
 * service to encode and by crtosctl's client to decode) and its lines in `crtosctl status`. Pure
 * data and pure functions: crtosctl loads every kind's view without any engine code.
 */

/** D-Bus types a kind property may have (a subset of the signature grammar the wire code handles). */
export type PropertyType = 's' | 'b' | 'i' | 'u' | 't' | 'as' | 'au' | 'a{ss}' | 'a{su}';

/** One kind property: its D-Bus name and type, and the field of the unit's details it shows. */
export interface KindProperty {
  name: string;
  type: PropertyType;
  field: string;
}

/** A unit's kind-specific details as the engine observes them: `kind` plus the view's fields. */
export type Details = { kind: string } & Record<string, unknown>;

export interface KindView {
  /** The interface every unit object of this kind carries beside org.crtos.Unit1, e.g. `org.crtos.Cell1`. */
  iface: string;
  /** The details of a unit nothing has been observed of yet (without `kind`). */
  empty: Record<string, unknown>;
  properties: readonly KindProperty[];
  /**
   * When set, `crtosctl status` (the overview) has a line with this label listing the units of
   * this kind with their states ('none configured' when there are none).
   */
  overviewLabel?: string;
  /** Label/value lines `crtosctl status UNIT` prints after the common ones. */
  statusLines(details: Details): [label: string, value: string][];
}
