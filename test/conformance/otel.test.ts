// The conformance cases (./cases.ts) for the entry points of group 3.
import { conformance, ENTRY_GROUPS } from './cases.js'

conformance(ENTRY_GROUPS[3])
