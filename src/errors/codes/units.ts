/** Problem codes of this area; every code starts with UNIT_. Joined in ../codes.ts. */
export const unitCodes = {
  UNIT_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },

  // Finding and reading files
  UNIT_DIRECTORY_MISSING: { summary: 'A unit directory given with --units does not exist or is not a directory' },
  UNIT_READ_FAILED: { summary: 'A unit file or drop-in could not be read: it vanished after the directory was listed, is a symbolic link loop, is not a regular file, or may not be read' },
  UNIT_FILE_TOO_LARGE: { summary: 'A unit file or drop-in is larger than 1 MiB; it is refused without being read' },
  UNIT_NOT_TEXT: { summary: 'A unit file or drop-in is not UTF-8 text (it holds a NUL byte or invalid UTF-8), so probably not a unit file at all' },
  UNIT_EMPTY_FILE: { summary: 'A unit file or drop-in is empty or holds only comments; unlike systemd, where an empty file masks a unit, this is an error (delete a file to remove its units)' },

  // YAML
  UNIT_YAML_SYNTAX: { summary: 'A unit file is not well-formed YAML' },
  UNIT_DUPLICATE_KEY: { summary: 'A mapping in a unit file names the same key twice' },
  UNIT_YAML_LIMIT: { summary: 'A unit file goes beyond what the YAML reader accepts: values nested over 64 levels deep, over 10,000 documents, aliases repeating over 10,000 values, or an alias inside its own anchor' },
  UNIT_NOT_A_MAPPING: { summary: 'A YAML document in a unit file is not a mapping of fields' },

  // One unit against its kind's schema
  UNIT_MISSING_KIND: { summary: 'A unit document has no `kind:` field' },
  UNIT_UNKNOWN_KIND: { summary: 'A unit names a kind crtosd does not know (Driver, Hypervisor, Image, Cell, Network, Loader, Link)' },
  UNIT_UNKNOWN_FIELD: { summary: 'A unit has a field its kind does not define (often a typo)' },
  UNIT_MISSING_FIELD: { summary: 'A unit lacks a field its kind requires' },
  UNIT_INVALID_TYPE: { summary: 'A field holds the wrong type of value (a list where a string belongs, say)' },
  UNIT_INVALID_VALUE: { summary: 'A field holds a value outside its allowed set, range or format' },

  // The set of units
  UNIT_DUPLICATE_ID: { summary: 'Two unit documents have the same id (NAME.KIND) in files that do not hide each other' },
  UNIT_UNKNOWN_REFERENCE: { summary: 'A unit refers to (or requires or wants) a unit that does not exist' },
  UNIT_UNKNOWN_ORDER_TARGET: { summary: 'An after/before entry names a unit that does not exist (a warning: ordering against nothing is a no-op)' },
  UNIT_CONFLICT: { summary: 'Units that cannot run on one machine together, such as two Hypervisor units' },
  UNIT_DEPENDENCY_CYCLE: { summary: 'The start order has a cycle (through references, requires, wants, after or before)' },
  UNIT_DROPIN_MISMATCH: { summary: 'A drop-in names a kind or name other than the unit its directory belongs to' },
  UNIT_DROPIN_ORPHAN: { summary: 'A drop-in directory ID.d/ exists but no unit has that id (a warning)' },
  UNIT_FILE_MISSING: { summary: 'A file a unit names (configuration, image, module, program) does not exist under --root' },
  UNIT_FILE_INVALID: { summary: 'A file a unit names is not what the unit needs (a .cell file that does not decode, a cell configuration given as the system one)' },
  UNIT_IMAGE_MISMATCH: { summary: "An Image's file does not have the sha256 the unit pins (replaced or tampered with on disk)" },
  UNIT_LINK: { summary: "A Link unit cannot be made as written: a peer that is not a Cell of its hypervisor, a hypervisor whose backend makes no links, a value taken from a link that does not have it" },
  UNIT_CELL_CONFIG: { summary: "A Cell's inline configuration does not fit its hypervisor (another revision or architecture than the system configuration, or a value its revision cannot hold)" },
  UNIT_CELL_NO_REPLY_TIMEOUT: { summary: "A Cell's configuration is non-passive (no PASSIVE_COMMREG) with msg_reply_timeout 0: if its inmate does not answer the hypervisor's messages, stopping it or creating or destroying a cell next to it freezes the whole Linux side for good" },
  UNIT_UNKNOWN_SPECIFIER: { summary: 'A string names a specifier (%H, %m, %b, …) that does not exist; write %% for a literal %' },
  UNIT_MACHINE_MISFIT: { summary: "A unit does not fit the machine its facts describe: a CPU it does not have, memory outside its RAM" },
} as const;
