import { lazy } from 'react';
import { accessNeeded } from './lib/route-access';
import { routeOf, usePath } from './lib/router';
import { useSession } from './modules/auth/hooks/use-session';
import { ForbiddenPage } from './pages/forbidden-page';
import { AccountPage } from './pages/account-page';
import { LabelPage } from './pages/label-page';
import { LoginPage } from './pages/login-page';
import { NewProjectPage } from './pages/new-project-page';
import { ProjectsPage } from './pages/projects-page';
import { ReviewPage } from './pages/review-page';
import { UsersPage } from './pages/users-page';
import { LoadingPage, ServerUnavailablePage } from './pages/status-pages';

// the screens with charts and the explorer load when first opened (main.tsx waits for them): a rater's first load carries none of them
const ExamplePage = lazy(() => import('./pages/example-page').then((m) => ({ default: m.ExamplePage })));
const ExplorerPage = lazy(() => import('./pages/explorer-page').then((m) => ({ default: m.ExplorerPage })));
const ProjectSettingsPage = lazy(() => import('./pages/project-settings-page').then((m) => ({ default: m.ProjectSettingsPage })));
const QualityPage = lazy(() => import('./pages/quality-page').then((m) => ({ default: m.QualityPage })));

export function App() {
  const { state, retry } = useSession();
  const route = routeOf(usePath());

  switch (state.status) {
    case 'loading':
      return <LoadingPage />;
    case 'unavailable':
      return <ServerUnavailablePage error={state.error} onRetry={retry} />;
    case 'signed-out':
      return <LoginPage notice={state.notice} />;
    case 'signed-in': {
      // a screen the person's role does not open says so (and which role it needs) rather than showing another
      const denied = accessNeeded(route, state.session);
      if (denied) return <ForbiddenPage key={`${route.page}-${denied.project ?? ''}`} need={denied} />;
      const admin = state.session.user.role === 'admin';
      if (route.page === 'label') return <LabelPage key={route.slug} slug={route.slug} />;
      if (route.page === 'review') return <ReviewPage key={route.slug} slug={route.slug} />;
      if (route.page === 'quality') return <QualityPage key={route.slug} slug={route.slug} />;
      if (route.page === 'explorer') return <ExplorerPage key={route.slug} slug={route.slug} />;
      if (route.page === 'example') return <ExamplePage key={`${route.slug}/${route.id}`} slug={route.slug} id={route.id} />;
      if (route.page === 'settings' && admin) return <ProjectSettingsPage key={route.slug} slug={route.slug} />;
      if (route.page === 'users' && admin) return <UsersPage />;
      if (route.page === 'account') return <AccountPage />;
      if (route.page === 'new-project' && admin) return <NewProjectPage />;
      return <ProjectsPage />;
    }
  }
}
