/** Discord's upload limit for a bot's attachments when an interaction does not state a larger one. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;
