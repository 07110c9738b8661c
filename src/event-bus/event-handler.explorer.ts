import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { EventBus, EventHandler } from './event-bus';
import { EnvelopeFor } from './event-envelope';
import { ON_EVENT_METADATA, OnEventMetadata } from './on-event.decorator';

/** Finds `@OnEvent` methods on every provider at bootstrap and subscribes them, bound to their instance. */
@Injectable()
export class EventHandlerExplorer implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventHandlerExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly bus: EventBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance } = wrapper;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const metadata = this.reflector.get<OnEventMetadata | undefined>(ON_EVENT_METADATA, fn);
        if (!metadata) continue;
        const name = metadata.options.name ?? `${instance.constructor.name}.${method}`;
        await this.bus.subscribe(metadata.pattern, (fn as EventHandler<EnvelopeFor<string>>).bind(instance), { ...metadata.options, name });
        this.logger.log(`${name} subscribed to "${metadata.pattern}"${metadata.options.group ? ` (group ${metadata.options.group})` : ''}`);
      }
    }
  }
}
