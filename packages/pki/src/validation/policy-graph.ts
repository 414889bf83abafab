/**
 * Certificate policy processing of RFC 5280 §6.1.2 (a), §6.1.3 (d)-(f), §6.1.4 (a)-(b) and
 * §6.1.5 (g), on a "policy graph" instead of the RFC's valid_policy_tree.
 *
 * Why a graph: in the tree, one policy reached through several mappings is repeated once per
 * parent, and a hostile chain of mappings makes the tree grow exponentially. Merging the nodes of
 * a level that share a valid_policy gives a DAG with at most one node per policy per level; every
 * question path validation asks of the tree (is it NULL, which policies reach the end entity from
 * which anyPolicy-rooted node) has the same answer on the DAG. This is the approach of BoringSSL's
 * policy.cc and Go's crypto/x509 (2023 rewrites); the code here is written from RFC 5280 itself.
 *
 * A node records its parents' policies; an empty parent set means its single parent is the
 * anyPolicy node of the level above (RFC 5280 never gives a node both kinds of parent).
 */
import { ANY_POLICY } from './prepared.js';

interface PolicyNode {
  policy: string;
  /** valid_policy values of the parent nodes one level up; empty: the parent is anyPolicy. */
  parents: Set<string>;
  /** expected_policy_set: the policies that the next certificate may assert to extend this node. */
  expected: string[];
}

interface PolicyLevel {
  nodes: Map<string, PolicyNode>;
  /** Whether this level holds an anyPolicy node (always a child of the level above's anyPolicy). */
  any: boolean;
}

/** The policy state along one path. */
export class PolicyGraph {
  private levels: PolicyLevel[] = [{ nodes: new Map(), any: true }];
  private nullTree = false;

  /** RFC 5280's "valid_policy_tree is NULL". */
  get isNull(): boolean {
    return this.nullTree;
  }

  private get bottom(): PolicyLevel {
    return this.levels[this.levels.length - 1]!;
  }

  /**
   * §6.1.3 (d)-(e) for one certificate: `policies` is its certificatePolicies (undefined when the
   * extension is absent); `anyPolicyAllowed` is "inhibit_anyPolicy > 0, or i < n and self-issued".
   */
  processCertificate(policies: string[] | undefined, anyPolicyAllowed: boolean): void {
    if (this.nullTree) return;
    if (policies === undefined) {
      this.setNull();
      return;
    }
    const prev = this.bottom;
    const level: PolicyLevel = { nodes: new Map(), any: false };
    // Which previous-level nodes expect each policy (the edges of (d)(1)(i) and (d)(2)).
    const expectedBy = new Map<string, string[]>();
    for (const node of prev.nodes.values()) {
      for (const e of node.expected) {
        const list = expectedBy.get(e);
        if (list) list.push(node.policy);
        else expectedBy.set(e, [node.policy]);
      }
    }
    let assertsAny = false;
    for (const p of policies) {
      if (p === ANY_POLICY) {
        assertsAny = true;
        continue;
      }
      const parents = expectedBy.get(p);
      if (parents) level.nodes.set(p, { policy: p, parents: new Set(parents), expected: [p] }); // (d)(1)(i)
      else if (prev.any) level.nodes.set(p, { policy: p, parents: new Set(), expected: [p] }); // (d)(1)(ii)
    }
    if (assertsAny && anyPolicyAllowed) {
      // (d)(2): every expected policy not yet matched gets a node; anyPolicy continues anyPolicy.
      for (const [p, parents] of expectedBy) {
        if (!level.nodes.has(p)) level.nodes.set(p, { policy: p, parents: new Set(parents), expected: [p] });
      }
      if (prev.any) level.any = true;
    }
    this.levels.push(level);
    // (d)(3): pruning childless nodes above is implicit (only nodes reachable upward from the
    // bottom level count in the end); the tree is NULL exactly when the bottom level is empty.
    if (level.nodes.size === 0 && !level.any) this.setNull();
  }

  /**
   * §6.1.4 (b) for the certificate just processed. `mappings` must not contain anyPolicy (the
   * caller rejects that per (a)); `mappingAllowed` is "policy_mapping > 0".
   */
  applyMappings(mappings: Array<{ issuerDomain: string; subjectDomain: string }>, mappingAllowed: boolean): void {
    if (this.nullTree) return;
    const level = this.bottom;
    const byIssuer = new Map<string, string[]>();
    for (const m of mappings) {
      const list = byIssuer.get(m.issuerDomain);
      if (!list) byIssuer.set(m.issuerDomain, [m.subjectDomain]);
      else if (!list.includes(m.subjectDomain)) list.push(m.subjectDomain);
    }
    if (mappingAllowed) {
      for (const [idp, subjects] of byIssuer) {
        const node = level.nodes.get(idp);
        if (node) node.expected = subjects; // (b)(1)
        else if (level.any) level.nodes.set(idp, { policy: idp, parents: new Set(), expected: subjects }); // child of anyPolicy
      }
    } else {
      for (const idp of byIssuer.keys()) level.nodes.delete(idp); // (b)(2)
      if (level.nodes.size === 0 && !level.any) this.setNull();
    }
  }

  /**
   * §6.1.5 (g): the user-constrained-policy-set, in the trust anchor's policy domain: the
   * anyPolicy-rooted policies with a path to the end entity's level, intersected with the
   * user-initial-policy-set (anyPolicy in the result means "any policy").
   */
  userConstrainedPolicySet(userInitialPolicySet: readonly string[]): string[] {
    if (this.nullTree) return [];
    const roots = new Set<string>();
    if (this.bottom.any) roots.add(ANY_POLICY);
    let reachable = new Set(this.bottom.nodes.keys());
    for (let i = this.levels.length - 1; i >= 1 && reachable.size; i--) {
      const level = this.levels[i]!;
      const up = new Set<string>();
      for (const p of reachable) {
        const node = level.nodes.get(p)!;
        if (node.parents.size === 0) roots.add(p);
        else for (const q of node.parents) up.add(q);
      }
      reachable = up;
    }
    if (userInitialPolicySet.includes(ANY_POLICY)) return [...roots].sort();
    if (roots.has(ANY_POLICY)) return [...new Set(userInitialPolicySet)].sort();
    return userInitialPolicySet.filter((p, i, all) => roots.has(p) && all.indexOf(p) === i).sort();
  }

  private setNull(): void {
    this.nullTree = true;
    this.levels = [];
  }
}
