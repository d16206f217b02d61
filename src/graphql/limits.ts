// Bounds on what one GraphQL document may ask for:
//  - every connection and list of rows returns at most maxPageSize rows: `first`/`last` above it is an
//    error, and a connection asked for without either gets the first maxPageSize rows;
//  - the selection nesting is at most maxDepth deep;
//  - the cost, the rows a document may ask for (each connection or row list counts the product of its
//    page size and the page sizes of the connections it is nested in), is at most maxCost.
// Introspection (__schema, __type) is exempt from depth and cost, so IDEs work.
import {
  GraphQLError,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
  type VariableDefinitionNode,
} from "postgraphile/graphql";
import { SafeError, access, constant, lambda, list, type Step } from "postgraphile/grafast";

export interface GraphqlLimits {
  maxPageSize: number;
  maxDepth: number;
  maxCost: number;
}

interface PageStep extends Step {
  setFirst(first: Step | number): void;
  setLast(last: Step | number): void;
}

/** The effective first/last of one connection, or an error the client sees. */
export function pageBounds(first: unknown, last: unknown, maxPageSize: number): { first: number | null; last: number | null } {
  for (const [name, value] of [["first", first], ["last", last]] as const) {
    if (value == null) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new SafeError(`\`${name}\` must be a whole number from 0 to ${maxPageSize}`);
    }
    if (value > maxPageSize) {
      throw new SafeError(`\`${name}\` is ${value}; at most ${maxPageSize} rows can be read at once (paginate with \`after\`)`);
    }
  }
  if (first != null && last != null) throw new SafeError("use `first` or `last`, not both");
  if (first == null && last == null) return { first: maxPageSize, last: null };
  return { first: (first as number | null) ?? null, last: (last as number | null) ?? null };
}

/**
 * A graphile-build plugin: connections and row lists apply `first`/`last` through pageBounds instead
 * of PostGraphile's own argument plans, so that a page is never larger than maxPageSize.
 */
export function makePaginationCapPlugin(maxPageSize: number): GraphileConfig.Plugin {
  return {
    name: "MailroomPaginationCapPlugin",
    version: "1.0.0",
    after: ["PgFirstLastBeforeAfterArgsPlugin"],
    schema: {
      hooks: {
        // Drop PostGraphile's own plans for first/last (the field plan below applies both at once).
        GraphQLObjectType_fields_field_args(args, _build, context) {
          if (!isPageScope(context.scope) || !args.first) return args;
          const out = { ...args };
          for (const name of ["first", "last"]) {
            const arg = out[name];
            if (arg) out[name] = { ...arg, applyPlan: undefined } as never;
          }
          return out;
        },
        GraphQLObjectType_fields_field(field, _build, context) {
          if (!isPageScope(context.scope) || !field.plan) return field;
          const plan = field.plan as (...a: unknown[]) => Step;
          return {
            ...field,
            plan(this: unknown, $parent: Step, fieldArgs: { getRaw(name: string): Step }, info: { field: { args: readonly { name: string }[] } }) {
              const $result = plan.call(this, $parent, fieldArgs, info) as PageStep;
              const argNames = info.field.args.map((a) => a.name);
              if (!argNames.includes("first")) return $result;
              const hasLast = argNames.includes("last");
              const $bounds = lambda(
                list([fieldArgs.getRaw("first"), hasLast ? fieldArgs.getRaw("last") : constant(null)]),
                ([first, last]) => pageBounds(first, last, maxPageSize),
                true,
              );
              $result.setFirst(access($bounds, "first"));
              if (hasLast) $result.setLast(access($bounds, "last"));
              return $result;
            },
          } as typeof field;
        },
      },
    },
  };
}

function isPageScope(scope: unknown): boolean {
  const s = scope as { isPgFieldConnection?: boolean; isPgFieldSimpleCollection?: boolean };
  return Boolean(s.isPgFieldConnection || s.isPgFieldSimpleCollection);
}

function literalInt(node: ValueNode | undefined, variables: Map<string, VariableDefinitionNode>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const fallback = variables.get(node.name.value)?.defaultValue;
    return fallback?.kind === Kind.INT ? Number(fallback.value) : undefined;
  }
  return undefined;
}

/** The depth and cost rule, as one graphql-js validation rule. */
export function makeLimitsValidationRule(limits: GraphqlLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const schema: GraphQLSchema = context.getSchema();
    return {
      OperationDefinition(operation) {
        const variables = new Map(operation.variableDefinitions?.map((v) => [v.variable.name.value, v]) ?? []);
        let maxDepth = 0;
        let cost = 0;
        // Pages: a literal `first`/`last` counts as itself; a variable or nothing counts as the cap.
        const pageSize = (field: GraphQLField<unknown, unknown>, node: FieldNode): number => {
          if (!field.args.some((a) => a.name === "first")) return 1;
          const arg = (name: string) => node.arguments?.find((a) => a.name.value === name)?.value;
          const asked = literalInt(arg("first"), variables) ?? literalInt(arg("last"), variables);
          return Math.min(asked ?? limits.maxPageSize, limits.maxPageSize);
        };
        const walk = (set: SelectionSetNode, type: GraphQLNamedType, multiplier: number, depth: number, fragments: Set<string>) => {
          maxDepth = Math.max(maxDepth, depth);
          for (const selection of set.selections) {
            if (selection.kind === Kind.FIELD) {
              if (selection.name.value.startsWith("__")) continue;
              if (!(isObjectType(type) || isInterfaceType(type))) continue;
              const field = type.getFields()[selection.name.value];
              if (!field) continue;
              const page = pageSize(field, selection);
              const rows = multiplier * page;
              if (page > 1 || field.args.some((a) => a.name === "first")) cost += rows;
              if (selection.selectionSet) walk(selection.selectionSet, getNamedType(field.type), rows, depth + 1, fragments);
            } else if (selection.kind === Kind.INLINE_FRAGMENT) {
              const inner = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
              if (inner) walk(selection.selectionSet, inner, multiplier, depth, fragments);
            } else {
              const name = selection.name.value;
              const fragment = context.getFragment(name);
              if (!fragment || fragments.has(name)) continue;
              const inner = schema.getType(fragment.typeCondition.name.value);
              if (inner) walk(fragment.selectionSet, inner, multiplier, depth, new Set([...fragments, name]));
            }
          }
        };
        const root =
          operation.operation === "query" ? schema.getQueryType()
          : operation.operation === "mutation" ? schema.getMutationType()
          : schema.getSubscriptionType();
        if (!root) return;
        walk(operation.selectionSet, root, 1, 1, new Set());
        if (maxDepth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`the query is nested ${maxDepth} deep; at most ${limits.maxDepth} is allowed`, { nodes: [operation] }),
          );
        }
        if (cost > limits.maxCost) {
          context.reportError(
            new GraphQLError(
              `the query may read ${cost} rows; at most ${limits.maxCost} are allowed (ask for smaller pages or fewer nested connections)`,
              { nodes: [operation] },
            ),
          );
        }
      },
    };
  };
}

/** A grafserv plugin adding the depth and cost rule to the validation rules. */
export function makeLimitsPlugin(limits: GraphqlLimits): GraphileConfig.Plugin {
  const rule = makeLimitsValidationRule(limits);
  return {
    name: "MailroomQueryLimitsPlugin",
    version: "1.0.0",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules.push(rule);
          return next();
        },
      },
    },
  };
}
