import { Routes, type REST } from 'discord.js';
import type { Delivery, Job, Reporter } from '../generation/ports.js';
import { renderDelivered, renderFailed, renderProgress, type MessagePayload } from './render.js';

/**
 * The core's Reporter on Discord: every outcome edits the deferred reply through the interaction's
 * webhook, which needs no bot token and works for ephemeral and public replies alike.
 */
export function createDiscordReporter(rest: REST): Reporter {
  const editOriginal = async (job: Job, payload: MessagePayload) => {
    const { applicationId, interactionToken } = job.origin.reply;
    await rest.patch(Routes.webhookMessage(applicationId, interactionToken, '@original'), {
      body: payload.body,
      files: payload.files,
      auth: false,
    });
  };
  return {
    progress: (job) => editOriginal(job, renderProgress(job)),
    delivered: (job, delivery: Delivery) => editOriginal(job, renderDelivered(job, delivery)),
    failed: (job, message) => editOriginal(job, renderFailed(job, message)),
  };
}
