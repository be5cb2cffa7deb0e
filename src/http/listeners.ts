import express, { type Express } from 'express';
import { computeVersionDocument } from './nova/app';
import { glanceVersions } from './glance/view';

/**
 * A listener for one service on its own port (Nova's 8774, Glance's 9292),
 * as real deployments give each: `GET /` answers that service's version
 * list, where openstacksdk and the service's client discover it from a
 * catalog endpoint's root; every other path goes to the one app.
 */
export function serviceRootApp(service: 'compute' | 'image', app: Express): Express {
  const root = express();
  root.disable('x-powered-by');
  root.get('/', (req, res) => {
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    if (service === 'image') {
      res.status(300).json(glanceVersions(origin));
      return;
    }
    // Nova's `GET /` (versions.py: Versions.index): both API versions, 200.
    const v21 = computeVersionDocument(origin).version;
    res.status(200).json({
      versions: [
        {
          id: 'v2.0',
          status: 'SUPPORTED',
          version: '',
          min_version: '',
          updated: '2011-01-21T11:33:21Z',
          links: [{ rel: 'self', href: `${origin}/v2/` }],
        },
        {
          id: v21.id,
          status: v21.status,
          version: v21.version,
          min_version: v21.min_version,
          updated: v21.updated,
          links: [{ rel: 'self', href: `${origin}/v2.1/` }],
        },
      ],
    });
  });
  root.use(app);
  return root;
}
