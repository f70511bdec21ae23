/**
 * The parts of Discord's interaction payload this Worker reads, checked with valibot after the
 * signature holds. Loose objects: Discord adds fields often, and unknown ones are ignored.
 */
import { ComponentType, InteractionType } from "discord-api-types/v10";
import * as v from "valibot";

const Snowflake = v.pipe(v.string(), v.regex(/^\d{1,20}$/));

const UserSchema = v.looseObject({
  id: Snowflake,
  username: v.string(),
  global_name: v.optional(v.nullable(v.string())),
});

const MemberSchema = v.looseObject({
  user: UserSchema,
  nick: v.optional(v.nullable(v.string())),
  roles: v.array(Snowflake),
  // The member's permissions in the channel, a decimal bitfield string.
  permissions: v.pipe(v.string(), v.regex(/^\d{1,30}$/)),
});

const CommandOptionSchema = v.looseObject({
  name: v.string(),
  type: v.number(),
  value: v.optional(v.union([v.string(), v.number(), v.boolean()])),
  focused: v.optional(v.boolean()),
});

const CommandDataSchema = v.looseObject({
  name: v.string(),
  options: v.optional(v.array(CommandOptionSchema), []),
});

const ComponentDataSchema = v.looseObject({
  custom_id: v.pipe(v.string(), v.maxLength(100)),
  component_type: v.number(),
});

const TextInputSubmitSchema = v.looseObject({
  type: v.literal(ComponentType.TextInput),
  custom_id: v.string(),
  value: v.string(),
});

// Modals answer with Label components (type 18) around each input; older clients with action rows.
const ModalRowSchema = v.union([
  v.looseObject({ type: v.literal(ComponentType.Label), component: v.looseObject({ type: v.number() }) }),
  v.looseObject({
    type: v.literal(ComponentType.ActionRow),
    components: v.array(v.looseObject({ type: v.number() })),
  }),
  v.looseObject({ type: v.number() }),
]);

const ModalDataSchema = v.looseObject({
  custom_id: v.pipe(v.string(), v.maxLength(100)),
  components: v.array(ModalRowSchema),
});

const MessageSchema = v.looseObject({
  id: Snowflake,
  embeds: v.optional(v.array(v.looseObject({})), []),
  // The message's action rows, read to keep the Take over / Hand back / Pause row after an action.
  components: v.optional(v.array(v.looseObject({})), []),
});

const Base = {
  id: Snowflake,
  application_id: Snowflake,
  token: v.pipe(v.string(), v.minLength(1), v.maxLength(1000)),
  version: v.number(),
  guild_id: v.optional(Snowflake),
  member: v.optional(MemberSchema),
  locale: v.optional(v.string()),
  guild_locale: v.optional(v.string()),
};

export const InteractionSchema = v.variant("type", [
  v.looseObject({ ...Base, type: v.literal(InteractionType.Ping) }),
  v.looseObject({ ...Base, type: v.literal(InteractionType.ApplicationCommand), data: CommandDataSchema }),
  v.looseObject({
    ...Base,
    type: v.literal(InteractionType.ApplicationCommandAutocomplete),
    data: CommandDataSchema,
  }),
  v.looseObject({
    ...Base,
    type: v.literal(InteractionType.MessageComponent),
    data: ComponentDataSchema,
    message: MessageSchema,
  }),
  v.looseObject({
    ...Base,
    type: v.literal(InteractionType.ModalSubmit),
    data: ModalDataSchema,
    message: v.optional(MessageSchema),
  }),
]);
export type Interaction = v.InferOutput<typeof InteractionSchema>;
export type Member = v.InferOutput<typeof MemberSchema>;
export type InteractionMessage = v.InferOutput<typeof MessageSchema>;

/** The value of the text input `customId` in a submitted modal, in either layout. */
export function modalValue(
  rows: v.InferOutput<typeof ModalDataSchema>["components"],
  customId: string,
): string | null {
  for (const row of rows) {
    const inputs =
      "component" in row
        ? [row.component]
        : "components" in row && Array.isArray(row.components)
          ? row.components
          : [];
    for (const input of inputs) {
      const parsed = v.safeParse(TextInputSubmitSchema, input);
      if (parsed.success && parsed.output.custom_id === customId) return parsed.output.value;
    }
  }
  return null;
}

/** The buttons that change who answers the customer; they leave the item open. */
export type ControlAction = "take_over" | "hand_back" | "pause";
export type RelayButton = "reply" | "approve" | "drop" | ControlAction;

export const isControl = (action: string): action is ControlAction =>
  action === "take_over" || action === "hand_back" || action === "pause";

/** `relay:<action>:<relayId>`, the contract with the relay's buttons and modal. */
export function parseRelayCustomId(
  customId: string,
): { action: RelayButton | "modal"; relayId: string } | null {
  const m = /^relay:(reply|approve|drop|take_over|hand_back|pause|modal):([\w-]{1,80})$/.exec(customId);
  return m ? { action: m[1] as RelayButton | "modal", relayId: m[2]! } : null;
}

/** An action row of control buttons only, as the relay posts them. */
export const ControlRowSchema = v.looseObject({
  type: v.literal(ComponentType.ActionRow),
  components: v.pipe(
    v.array(
      v.looseObject({
        type: v.literal(ComponentType.Button),
        custom_id: v.pipe(v.string(), v.regex(/^relay:(take_over|hand_back|pause):[\w-]{1,80}$/)),
      }),
    ),
    v.minLength(1),
  ),
});
