// The conformance cases (./cases.ts) for the entry points of group 2.
import { conformance, ENTRY_GROUPS } from './cases.js'

conformance(ENTRY_GROUPS[2])
