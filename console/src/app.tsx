// The console's frame: sign-in until there is a session, then the navigation for the
// viewer's role and the screen the address names. Screens load on demand, so the first
// page downloads only the frame and the screen it opens.
import { lazy, Suspense, useMemo, type ComponentType } from "react";
import { Provider } from "urql";
import { Link, Redirect, Route, Router, Switch } from "wouter";
import { makeClient } from "./lib/client";
import { signOut, useSession, type Viewer } from "./lib/session";
import { toggleLanguage, useT, type TextKey } from "./lib/i18n";
import { SignIn } from "./screens/sign-in";

/** A screen: its address, its component (loaded on demand) and its navigation label
 * when it has an entry in the sidebar. */
interface Screen {
  path: string;
  component: ComponentType;
  label?: TextKey;
}

const ADMIN_SCREENS: Screen[] = [
  { path: "/dashboard", label: "nav.dashboard", component: lazy(() => import("./screens/admin/dashboard")) },
  { path: "/orders", label: "nav.orders", component: lazy(() => import("./screens/admin/orders")) },
  { path: "/orders/:id", component: lazy(() => import("./screens/admin/order-detail")) },
  { path: "/users", label: "nav.users", component: lazy(() => import("./screens/admin/users")) },
  { path: "/courses", label: "nav.courses", component: lazy(() => import("./screens/admin/courses")) },
  { path: "/creators", label: "nav.creators", component: lazy(() => import("./screens/admin/creators")) },
  { path: "/ratings", label: "nav.ratings", component: lazy(() => import("./screens/admin/ratings")) },
  { path: "/reports", label: "nav.reports", component: lazy(() => import("./screens/admin/reports")) },
  { path: "/outbox", label: "nav.outbox", component: lazy(() => import("./screens/admin/outbox")) },
  { path: "/operations", label: "nav.operations", component: lazy(() => import("./screens/admin/operations")) },
];

const CREATOR_SCREENS: Screen[] = [
  { path: "/creator", label: "nav.myDashboard", component: lazy(() => import("./screens/creator/dashboard")) },
  { path: "/creator/courses", label: "nav.myCourses", component: lazy(() => import("./screens/creator/courses")) },
  { path: "/creator/orders", label: "nav.sold", component: lazy(() => import("./screens/admin/orders")) },
  { path: "/creator/orders/:id", component: lazy(() => import("./screens/admin/order-detail")) },
  { path: "/creator/courses/:id", component: lazy(() => import("./screens/creator/course-editor")) },
  {
    path: "/creator/livestreams",
    label: "nav.myLivestreams",
    component: lazy(() => import("./screens/creator/livestreams")),
  },
  { path: "/creator/livestreams/:id", component: lazy(() => import("./screens/creator/livestream-room")) },
  { path: "/creator/groups", label: "nav.myGroups", component: lazy(() => import("./screens/creator/groups")) },
  { path: "/creator/groups/:id", component: lazy(() => import("./screens/creator/group-moderation")) },
  { path: "/creator/coupons", label: "nav.coupons", component: lazy(() => import("./screens/creator/coupons")) },
  { path: "/creator/shelf", label: "nav.shelf", component: lazy(() => import("./screens/creator/shelf")) },
  { path: "/creator/earnings", label: "nav.earnings", component: lazy(() => import("./screens/creator/earnings")) },
];

/** The screens a viewer may open: the platform's for admins, a creator's for anyone
 * with a creator profile. */
function screensOf(viewer: Viewer): Screen[] {
  return [...(viewer.role === "ADMIN" ? ADMIN_SCREENS : []), ...(viewer.creatorId ? CREATOR_SCREENS : [])];
}

function Frame(props: { viewer: Viewer }) {
  const t = useT();
  const screens = screensOf(props.viewer);
  const home = screens[0]?.path ?? "/creator";
  return (
    <div className="frame">
      <aside className="sidebar">
        <div className="brand">{t("app.name")}</div>
        <nav>
          {screens
            .filter((screen) => screen.label)
            .map((screen) => (
              <Link key={screen.path} href={screen.path} className={(active) => (active ? "active" : "")}>
                {screen.label && t(screen.label)}
              </Link>
            ))}
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <span className="who">
            {props.viewer.nickname ?? props.viewer.id} · {t(`role.${props.viewer.role}`)}
          </span>
          <button type="button" onClick={toggleLanguage}>
            {t("app.language")}
          </button>
          <button type="button" onClick={() => signOut("signedOut")}>
            {t("app.signOut")}
          </button>
        </header>
        <Suspense fallback={<div className="loading">{t("app.loading")}</div>}>
          <Switch>
            {screens.map((screen) => (
              <Route key={screen.path} path={screen.path} component={screen.component} />
            ))}
            <Route>
              <Redirect to={home} replace />
            </Route>
          </Switch>
        </Suspense>
      </div>
    </div>
  );
}

/** The whole console. A new client per session, so nothing cached survives sign-out. */
export function App() {
  const current = useSession();
  const viewerId = current?.viewer.id ?? null;
  // A new client when the signed-in person changes, so no cached answer carries over.
  const client = useMemo(() => makeClient(viewerId), [viewerId]);
  return (
    <Provider value={client}>
      <Router base="/console">{current ? <Frame viewer={current.viewer} /> : <SignIn />}</Router>
    </Provider>
  );
}
