/** Turns the pure core's outcomes into replies in the contract's HTTP terms. */
import {
  ERROR_HTTP_STATUS,
  publicTokens,
  errorBody,
  type Command,
  type Outcome,
  type Reply,
  type SlotState,
} from '@opd/shared';

export function replyFor(command: Command, state: SlotState | null, outcome: Outcome): Reply {
  if (!outcome.ok) {
    return {
      schemaVersion: 1,
      commandId: command.commandId,
      status: ERROR_HTTP_STATUS[outcome.code],
      body: errorBody(outcome.code, outcome.message, outcome.details),
    };
  }
  const promotedId = outcome.promotedIds[0];
  const tokens = publicTokens(state!, promotedId ? [outcome.tokenId, promotedId] : [outcome.tokenId]);
  const body: Record<string, unknown> = { token: tokens.get(outcome.tokenId) ?? null };
  if (command.type === 'token.cancel' || command.type === 'token.no-show') {
    body.promoted = promotedId ? (tokens.get(promotedId) ?? null) : null;
  }
  return { schemaVersion: 1, commandId: command.commandId, status: outcome.httpStatus, body };
}

export function errorReply(command: Command, code: keyof typeof ERROR_HTTP_STATUS, message: string, details?: unknown): Reply {
  return { schemaVersion: 1, commandId: command.commandId, status: ERROR_HTTP_STATUS[code], body: errorBody(code, message, details) };
}
