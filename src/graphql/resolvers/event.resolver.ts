import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { toDeliveryObject, toEventObject } from '../mappers.js';
import { DeliveryObject, EventObject } from '../types/delivery.type.js';
import { PublishEventInput } from '../types/inputs.js';

@Resolver(() => EventObject)
export class EventResolver {
  @Query(() => EventObject, { nullable: true })
  async event(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<EventObject | null> {
    const event = await context.deliveries.findEvent(id);
    return event ? toEventObject(event) : null;
  }

  @Mutation(() => EventObject, { description: 'Stores the event and queues one delivery per matching active webhook' })
  async publishEvent(@Arg('input', () => PublishEventInput) input: PublishEventInput, @Ctx() context: GraphQLContext): Promise<EventObject> {
    return toEventObject(await context.events.publish(input));
  }

  @Mutation(() => [EventObject], { description: 'Up to 1000 events in one transaction; the answer follows the input order' })
  async publishEvents(@Arg('inputs', () => [PublishEventInput]) inputs: PublishEventInput[], @Ctx() context: GraphQLContext): Promise<EventObject[]> {
    return (await context.events.publishMany(inputs)).map(toEventObject);
  }

  @FieldResolver(() => [DeliveryObject])
  async deliveries(@Root() event: EventObject, @Ctx() context: GraphQLContext): Promise<DeliveryObject[]> {
    return (await context.loaders.deliveriesOfEvent.load(event.id)).map(toDeliveryObject);
  }
}
