/** Introspection XML from the interface table (schema.ts), with the child nodes of a path. */
import type { ArgDef, InterfaceDef } from './schema.js';

const DOCTYPE =
  '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">';

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function args(list: ArgDef[], direction: 'in' | 'out' | undefined, indent: string): string[] {
  return list.map((a) => `${indent}<arg name="${escapeXml(a.name)}" type="${escapeXml(a.type)}"${direction ? ` direction="${direction}"` : ''}/>`);
}

function interfaceXml(def: InterfaceDef): string[] {
  const out = [`  <interface name="${def.name}">`];
  for (const m of def.methods) {
    out.push(`    <method name="${m.name}">`, ...args(m.in, 'in', '      '), ...args(m.out, 'out', '      '), '    </method>');
  }
  for (const s of def.signals) {
    out.push(`    <signal name="${s.name}">`, ...args(s.args, undefined, '      '), '    </signal>');
  }
  for (const p of def.properties) {
    if (p.emits === 'true') out.push(`    <property name="${p.name}" type="${p.type}" access="read"/>`);
    else {
      out.push(
        `    <property name="${p.name}" type="${p.type}" access="read">`,
        `      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="${p.emits}"/>`,
        '    </property>',
      );
    }
  }
  out.push('  </interface>');
  return out;
}

/** `children` are the names of the nodes directly below (single path elements). */
export function introspectXml(interfaces: readonly InterfaceDef[], children: readonly string[]): string {
  const lines = [DOCTYPE, '<node>'];
  for (const def of interfaces) lines.push(...interfaceXml(def));
  for (const child of children) lines.push(`  <node name="${escapeXml(child)}"/>`);
  lines.push('</node>');
  return lines.join('\n') + '\n';
}
