// Ratings (admins): the newest visible ratings or the hidden ones, by stars; hide a
// rating from everyone (it stops counting in the course's summary) or show it again.
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { HideRatingDocument, ModerateRatingsDocument } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { Badge, Field, FormErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 20;

export default function Ratings() {
  const t = useT();
  const [params, update] = useUrlState();
  const hidden = params.get("hidden") === "true";
  const stars = Number(params.get("stars")) || null;
  const context = useMemo(() => ({ additionalTypenames: ["Rating"] }), []);
  const [result] = useQuery({
    query: ModerateRatingsDocument,
    variables: { hidden: hidden || null, stars, ...pageArgs(params, PAGE_SIZE) },
    context,
  });
  const ratings = result.data?.ratings;
  return (
    <section>
      <PageHeader title={t("nav.ratings")} />
      <div className="filters">
        <Field label={t("ratings.show")}>
          <select name="hidden" value={String(hidden)} onChange={(e) => update({ hidden: e.target.value === "true" ? "true" : null, ...FIRST_PAGE })}>
            <option value="false">{t("ratings.visible")}</option>
            <option value="true">{t("ratings.hidden")}</option>
          </select>
        </Field>
        <Field label={t("ratings.stars")}>
          <select name="stars" value={stars ?? ""} onChange={(e) => update({ stars: e.target.value, ...FIRST_PAGE })}>
            <option value="">{t("app.all")}</option>
            {[1, 2, 3, 4, 5].map((value) => (
              <option key={value} value={value}>
                {"★".repeat(value)}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!ratings} />
      {ratings && (
        <>
          <table className="list" data-testid="ratings">
            <thead>
              <tr>
                <th>{t("ratings.course")}</th>
                <th>{t("users.nickname")}</th>
                <th>{t("ratings.stars")}</th>
                <th>{t("ratings.review")}</th>
                <th>{t("app.createdAt")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {ratings.nodes.map((rating) => (
                <RatingRow key={rating.id} rating={rating} />
              ))}
            </tbody>
          </table>
          {ratings.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={ratings.pageInfo} totalCount={ratings.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

function RatingRow(props: {
  rating: {
    id: string;
    stars: number;
    review?: string | null;
    createdAt: string;
    hiddenAt?: string | null;
    user: { nickname: string | null; id: string };
    course?: { title: string } | null;
  };
}) {
  const t = useT();
  const { rating } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, hide] = useMutation(HideRatingDocument);
  const toggle = async () =>
    setErrors((await hide({ rating: rating.id, hidden: !rating.hiddenAt })).data?.hideRating.userErrors ?? []);
  return (
    <tr data-rating={rating.id}>
      <td>{rating.course?.title ?? "—"}</td>
      <td>{rating.user.nickname ?? rating.user.id}</td>
      <td>{"★".repeat(rating.stars)}</td>
      <td className="text">{rating.review ?? ""}</td>
      <td>{formatTime(rating.createdAt)}</td>
      <td className="row-actions">
        {rating.hiddenAt && <Badge tone="bad">{t("ratings.hidden")}</Badge>}
        <button type="button" className={rating.hiddenAt ? "" : "danger"} disabled={state.fetching} onClick={toggle}>
          {rating.hiddenAt ? t("ratings.unhide") : t("ratings.hide")}
        </button>
        <FormErrors errors={errors} />
      </td>
    </tr>
  );
}
