/**
 * The time zone choices of the wizard's step 1 and the settings page: every IANA zone this runtime
 * knows, as [value, label] ("America/Port_of_Spain" shown with spaces). The current (saved or typed)
 * zone is always among them when it is a zone at all, since a runtime's list can name a zone by an
 * older alias. Empty when Intl cannot list the zones (the field is then a text input).
 */
import { isTimeZone } from "@concierge/core";

export function timeZoneOptions(current: string): [string, string][] {
  const list = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  if (list.length === 0) return [];
  const zones = list.includes(current) || !isTimeZone(current) ? list : [current, ...list];
  return zones.map((z) => [z, z.replaceAll("_", " ")]);
}
