import { Field, ID, ObjectType } from '@nestjs/graphql';
import { type User } from '../user.entity';

@ObjectType('User', { description: 'A person who can sign in. Never exposes credentials.' })
export class UserModel {
  @Field(() => ID, { description: 'User id.' })
  id!: string;

  @Field({ description: 'Email address, lower-cased.' })
  email!: string;

  @Field({ description: 'Name shown to other members.' })
  displayName!: string;

  @Field({ description: 'True for platform administrators, who may create tenants.' })
  isPlatformAdmin!: boolean;

  @Field({ description: 'When the user was created.' })
  createdAt!: Date;

  static from(u: User): UserModel {
    return Object.assign(new UserModel(), {
      id: u.id,
      email: u.email,
      displayName: u.displayName,
      isPlatformAdmin: u.isPlatformAdmin,
      createdAt: u.createdAt,
    });
  }
}
