// Changes a scheduled livestream: title, description, start (Beijing time), price and
// play address. The API refuses changes once it is live.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { UpdateLivestreamDocument } from "../../gql/graphql";
import { fenToYuan, instantToShanghaiLocal, shanghaiLocalToInstant, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { errorFor, Field, FormErrors, formErrors, type ApiUserError } from "../../ui/kit";

const FIELDS = ["title", "description", "scheduledStart", "priceFen", "playUrl"];

export function LivestreamEdit(props: {
  livestream: {
    id: string;
    title: string;
    description?: string | null;
    scheduledStart: string;
    playUrl?: string | null;
    price: { amount: number };
  };
  onDone: () => void;
}) {
  const t = useT();
  const { livestream } = props;
  const [values, setValues] = useState({
    title: livestream.title,
    description: livestream.description ?? "",
    start: instantToShanghaiLocal(livestream.scheduledStart),
    price: fenToYuan(livestream.price.amount),
    playUrl: livestream.playUrl ?? "",
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, save] = useMutation(UpdateLivestreamDocument);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const scheduledStart = shanghaiLocalToInstant(values.start);
    const priceFen = yuanToFen(values.price);
    const local: ApiUserError[] = [];
    if (!scheduledStart) local.push({ field: ["scheduledStart"], message: t("live.badStart"), code: "REQUIRED" });
    if (priceFen === null) local.push({ field: ["priceFen"], message: t("orders.badAmount") });
    if (!scheduledStart || priceFen === null) return setErrors(local);
    const result = await save({
      input: {
        livestream: livestream.id,
        title: values.title,
        description: values.description,
        scheduledStart,
        priceFen,
        playUrl: values.playUrl,
      },
    });
    const payload = result.data?.updateLivestream;
    setErrors(payload?.userErrors ?? []);
    if (payload?.livestream) props.onDone();
  }

  return (
    <form className="panel form-grid" onSubmit={submit} data-testid="edit-livestream">
      <Field label={t("courses.name")} error={errorFor(errors, "title")} wide>
        <input name="title" value={values.title} onChange={set("title")} />
      </Field>
      <Field label={t("live.startShanghai")} error={errorFor(errors, "scheduledStart")}>
        <input type="datetime-local" name="start" value={values.start} onChange={set("start")} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="price" inputMode="decimal" value={values.price} onChange={set("price")} />
      </Field>
      <Field label={t("live.playUrl")} error={errorFor(errors, "playUrl")} wide>
        <input name="playUrl" value={values.playUrl} onChange={set("playUrl")} />
      </Field>
      <Field label={t("courses.description")} error={errorFor(errors, "description")} wide>
        <textarea name="description" rows={3} value={values.description} onChange={set("description")} />
      </Field>
      <FormErrors errors={formErrors(errors, FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("app.save")}
        </button>
        <button type="button" onClick={props.onDone}>
          {t("app.cancel")}
        </button>
      </div>
    </form>
  );
}
