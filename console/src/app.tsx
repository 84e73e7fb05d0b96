// The console's frame: sign-in until there is a session, then the navigation for the
// viewer's role and the screen the address names. Screens load on demand, so the first
// page downloads only the frame and the screen it opens.
import { lazy, Suspense, useMemo } from "react";
import { Provider } from "urql";
import { Link, Redirect, Route, Router, Switch } from "wouter";
import { makeClient } from "./lib/client";
import { signOut, useSession, type Viewer } from "./lib/session";
import { toggleLanguage, useT, type TextKey } from "./lib/i18n";
import { SignIn } from "./screens/sign-in";

const PlatformDashboard = lazy(() => import("./screens/admin/dashboard"));
const Orders = lazy(() => import("./screens/admin/orders"));
const OrderDetail = lazy(() => import("./screens/admin/order-detail"));
const Users = lazy(() => import("./screens/admin/users"));
const AdminCourses = lazy(() => import("./screens/admin/courses"));
const CreatorDashboard = lazy(() => import("./screens/creator/dashboard"));
const CreatorCourses = lazy(() => import("./screens/creator/courses"));
const CourseEditor = lazy(() => import("./screens/creator/course-editor"));

/** The navigation entries a viewer sees. */
function navigation(viewer: Viewer): { href: string; label: TextKey }[] {
  const admin: { href: string; label: TextKey }[] = [
    { href: "/dashboard", label: "nav.dashboard" },
    { href: "/orders", label: "nav.orders" },
    { href: "/users", label: "nav.users" },
    { href: "/courses", label: "nav.courses" },
  ];
  const creator: { href: string; label: TextKey }[] = [
    { href: "/creator", label: "nav.myDashboard" },
    { href: "/creator/courses", label: "nav.myCourses" },
  ];
  return [...(viewer.role === "ADMIN" ? admin : []), ...(viewer.creatorId ? creator : [])];
}

function Frame(props: { viewer: Viewer }) {
  const t = useT();
  const entries = navigation(props.viewer);
  const home = entries[0]?.href ?? "/creator";
  const isAdmin = props.viewer.role === "ADMIN";
  return (
    <div className="frame">
      <aside className="sidebar">
        <div className="brand">{t("app.name")}</div>
        <nav>
          {entries.map((entry) => (
            <Link key={entry.href} href={entry.href} className={(active) => (active ? "active" : "")}>
              {t(entry.label)}
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
            {isAdmin && <Route path="/dashboard" component={PlatformDashboard} />}
            {isAdmin && <Route path="/orders" component={Orders} />}
            {isAdmin && <Route path="/orders/:id" component={OrderDetail} />}
            {isAdmin && <Route path="/users" component={Users} />}
            {isAdmin && <Route path="/courses" component={AdminCourses} />}
            {props.viewer.creatorId && <Route path="/creator" component={CreatorDashboard} />}
            {props.viewer.creatorId && <Route path="/creator/courses" component={CreatorCourses} />}
            {props.viewer.creatorId && <Route path="/creator/courses/:id" component={CourseEditor} />}
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
