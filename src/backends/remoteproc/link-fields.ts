/**
 * The `type: rpmsg` Link fields remoteproc takes: the channel the firmware announces on the rpmsg
 * bus, and the device node Linux makes for it. Pure: the Link kind's schema is built from it.
 */
import { z } from 'zod';
import { machinePath } from '../../units/scalars.js';
import type { LinkTypeDefinition } from '../port.js';

export const rpmsgFields = {
  service: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,31}$/, { message: 'must be the channel name the firmware announces (at most 31 characters, e.g. rpmsg-tty)' })
    .meta({ description: 'The channel the firmware announces on the rpmsg bus (rpmsg-tty, rpmsg-raw, rpmsg-openamp-demo-channel).' }),
  device: machinePath.meta({ description: 'The device node Linux makes for the channel (/dev/ttyRPMSG0): the link is up while it exists, and Loaders may name it.' }),
};

export type RpmsgFields = z.output<z.ZodObject<typeof rpmsgFields>>;

export const rpmsgLinkType: LinkTypeDefinition<typeof rpmsgFields> = {
  type: 'rpmsg',
  title: 'an rpmsg channel a remote processor announces (remoteproc)',
  fields: rpmsgFields,
  // Both name what to wait for: the link waits again, with the units that take its facts.
  changes: { service: 'restart', device: 'restart' },
  facts: () => ['device', 'channel'],
  provides: (l) => [l.device],
};
