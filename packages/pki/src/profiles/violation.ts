/** A broken profile rule: its name, and a sentence in English and in Chinese. */
import { ProfileError } from '../errors.js';

/** One broken rule, e.g. { rule: 'subject.required.O', message: '…', messageZh: '…' }. */
export interface Violation {
  rule: string;
  message: string;
  messageZh: string;
}

/** A ProfileError that also carries the Chinese sentence, for zh-CN user interfaces. */
export class ProfileRuleError extends ProfileError {
  readonly messageZh: string;
  /** The profile whose rule was broken. */
  readonly profile: string;
  constructor(profile: string, v: Violation) {
    super(v.rule, `profile ${profile}: ${v.message}`);
    this.messageZh = `证书模板 ${profile}：${v.messageZh}`;
    this.profile = profile;
  }
}

/** Builds a violation. */
export function violation(rule: string, message: string, messageZh: string): Violation {
  return { rule, message, messageZh };
}

/** Throws the first violation as a ProfileRuleError; does nothing when the list is empty. */
export function throwFirst(profile: string, violations: Violation[]): void {
  if (violations.length > 0) throw new ProfileRuleError(profile, violations[0]!);
}
