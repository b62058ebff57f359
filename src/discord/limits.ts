/** Discord's message limits, as documented for the API; checked by the renderers, never exceeded. */
export const LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fieldsPerEmbed: 25,
  embedsPerMessage: 10,
  embedTotal: 6000,
  filesPerMessage: 10,
} as const;
