import { randomUUID } from 'node:crypto';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { Logger } from 'pino';

/** How a confirmation ended; only `confirmed` may lead to a queued command. */
export type ConfirmOutcome = 'confirmed' | 'cancelled' | 'expired';

interface Pending {
  userId: string;
  resolve(outcome: ConfirmOutcome): void;
  timer: NodeJS.Timeout;
}

const PREFIX = 'deckhand:';

/**
 * Red-button confirmations for commands that remove things. Only the person who asked can answer;
 * an unanswered question expires and queues nothing, and so does a button left over from before a
 * restart, since its id is no longer known.
 */
export class Confirmations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** Replies to the interaction with the question and buttons; settles when answered or expired. */
  async ask(
    interaction: ChatInputCommandInteraction,
    question: string,
    verb: string,
  ): Promise<ConfirmOutcome> {
    const id = randomUUID();
    const expiresAt = Math.floor((Date.now() + this.ttlMs) / 1000);
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder()
        .setCustomId(`${PREFIX}confirm:${id}`)
        .setLabel(verb)
        .setStyle(ButtonStyle.Danger),
      new ButtonBuilder()
        .setCustomId(`${PREFIX}cancel:${id}`)
        .setLabel('Cancel')
        .setStyle(ButtonStyle.Secondary),
    );

    const outcome = new Promise<ConfirmOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(id, 'expired'), this.ttlMs);
      this.pending.set(id, { userId: interaction.user.id, resolve, timer });
    });

    await interaction.reply({
      content: `⚠️ ${question}\nOnly <@${interaction.user.id}> can answer; this expires <t:${expiresAt}:R>.`,
      components: [row],
      allowedMentions: { parse: [] },
    });

    const result = await outcome;
    if (result === 'expired') {
      await interaction
        .editReply({
          content: `⌛ Not confirmed in time: nothing was run.\n> ${question}`,
          components: [],
        })
        .catch((err: unknown) =>
          this.log.warn({ err }, 'could not mark a confirmation as expired'),
        );
    }
    return result;
  }

  /** Answers a button press if it belongs to a confirmation; false when the button is not Deckhand's. */
  async press(button: ButtonInteraction): Promise<boolean> {
    const match = /^deckhand:(confirm|cancel):(.+)$/.exec(button.customId);
    if (!match) return false;
    const [, action, id] = match as unknown as [string, 'confirm' | 'cancel', string];
    const entry = this.pending.get(id);

    if (!entry) {
      await button.update({
        content: '⌛ This confirmation has expired: nothing was run.',
        components: [],
      });
      return true;
    }
    if (entry.userId !== button.user.id) {
      await button.reply({
        content: `Only <@${entry.userId}> can answer this confirmation.`,
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      return true;
    }

    // Settle before the network call, so a double click or the timer cannot settle it twice.
    this.settle(id, action === 'confirm' ? 'confirmed' : 'cancelled');
    const content =
      action === 'confirm' ? '✅ Confirmed; queuing it now…' : '✖️ Cancelled: nothing was run.';
    await button.update({ content, components: [] });
    return true;
  }

  /** Expires every open question, for shutdown. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, 'expired');
  }

  private settle(id: string, outcome: ConfirmOutcome): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(outcome);
  }
}
