import { registerEnumType } from '@nestjs/graphql';

/** Where an app is in its lifecycle: REGISTERED → INSTALLED ⇄ UNINSTALLED → DEREGISTERED. */
export enum AppState {
  REGISTERED = 'REGISTERED',
  INSTALLED = 'INSTALLED',
  UNINSTALLED = 'UNINSTALLED',
  DEREGISTERED = 'DEREGISTERED',
}

registerEnumType(AppState, { name: 'AppState', description: 'REGISTERED → INSTALLED ⇄ UNINSTALLED → DEREGISTERED' });

/** The lifecycle steps and the states each may start from. */
export const LIFECYCLE = {
  install: { from: [AppState.REGISTERED, AppState.UNINSTALLED], to: AppState.INSTALLED },
  uninstall: { from: [AppState.INSTALLED], to: AppState.UNINSTALLED },
  // A registered app that was never installed may go too; an installed one must be uninstalled first.
  deregister: { from: [AppState.REGISTERED, AppState.UNINSTALLED], to: AppState.DEREGISTERED },
} as const satisfies Record<string, { from: readonly AppState[]; to: AppState }>;

export type LifecycleStep = keyof typeof LIFECYCLE;
