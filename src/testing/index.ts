/**
 * `ml-dash-logs/testing`: a fake ml-dash server for your own tests, speaking
 * the real protocol over HTTP on 127.0.0.1 with fault injection.
 */
export { signTestToken, startTestServer } from './ml-dash-server.js'
export type {
  Fault,
  RecordedRequest,
  StoredLog,
  TestExperiment,
  TestServer,
  TestServerOptions,
} from './ml-dash-server.js'
