/** The shapes of the platform's system and fee routes (platform/systems, platform/fees) as the pages use them. */

/** A unit named by its organisation code. */
export interface Unit {
  code: string;
  name: string;
}

/** A registered information system. */
export interface InformationSystem {
  id: string;
  displayName: string;
  category: string;
  scope: string;
  operator: Unit;
  builder: Unit;
  publicFacing: boolean;
  acceptedCas: string[];
  userGroups: string[];
  description: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

/** A fee schedule; prices in fen per certificate class. */
export interface FeeSchedule {
  effectiveFrom: string;
  prices: Record<string, { firstIssuance: number; annualService: number }>;
  note: string;
  createdAt: string;
  createdBy: string;
}

/** One line of a statement (holder already masked by the platform). */
export interface StatementLine {
  date: string;
  kind: 'first-issuance' | 'annual-service';
  system: string;
  holder: string;
  ca: string;
  class: string;
  sharedBy: number;
  price: number;
  amount: number;
  payer: { kind: 'builder' | 'using-unit' | 'applicant'; code: string; name?: string };
  provisional: boolean;
  priced: boolean;
}

/** A statement of one system or unit. */
export interface Statement {
  subject: { kind: 'system' | 'unit'; id: string; name?: string };
  from: string;
  to: string;
  generatedAt: string;
  lines: StatementLine[];
  totals: { firstIssuance: number; annualService: number; total: number; unpricedLines: number; provisionalLines: number };
}
