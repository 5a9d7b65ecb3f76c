import type { Feature } from '../../../domain/model';
import type { AccessService } from '../../../usecases/access';

/**
 * For buttons and forms that change a feature: null when `user` may, else the answer to give (a feature
 * they may not see is answered as one that does not exist).
 */
export async function changeRefusal(
  access: AccessService,
  team: string,
  user: string,
  feature: Feature,
): Promise<string | null> {
  if (!(await access.canSee(team, user, feature))) return access.notFound(feature.id);
  if (!(await access.canChange(team, user, feature))) return access.whoCan(feature);
  return null;
}
