// http/: every request to an API. The client (axios + axios-retry: credentials per origin, gzip,
// deadlines), its pace (rate limiter, requests in flight, the server's waits), what each failure
// means (the error table), streamed downloads and the API's clock. Imports json/ and protocol/.
// The client itself is loaded on first use (connector/tuning.ts): spec and discover never load axios.
export type { HttpClient, JsonResponse, SendOptions } from './client';
export { ApiClock } from './clock';
export { downloadItems, type SplitterFactory } from './download';
export type { AnswerReading, AuthOptions, Bounds, HttpClientOptions, PaceSettings, Reporting, RequestReporter } from './options';
export { describeRequest, type Logger, type Params } from './request';
export { sleep } from './rate-limit';
export { MEGABYTE } from './response-body';
