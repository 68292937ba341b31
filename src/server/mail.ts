import type { MailMessage } from "../api/types";
import { newId } from "./security";

/**
 * Where mail goes. The server sends no real mail: in dev mode messages are
 * kept, oldest first, for GET /_dev/mail; otherwise they are dropped after
 * a log line that never contains the token.
 */
export class Outbox {
  private readonly messages: MailMessage[] = [];

  constructor(private readonly keep: boolean) {}

  send(message: Omit<MailMessage, "id" | "sent_at">): MailMessage {
    const full: MailMessage = { id: newId("mail"), ...message, sent_at: new Date().toISOString() };
    if (this.keep) this.messages.push(full);
    return full;
  }

  /** Kept messages, oldest first, optionally only those to one address. */
  list(to?: string): MailMessage[] {
    return to === undefined ? [...this.messages] : this.messages.filter((m) => m.to === to);
  }
}
